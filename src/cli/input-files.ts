import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Reads a JSON (or, where allowed, YAML) document named on the command line. A missing or
 * unparsable file is the user's input being invalid: exit `invalid`, naming the file.
 */
export function readDocument(file: string, opts: { yaml?: boolean } = {}): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: cannot read the file (${code ?? (e as Error).message})`, EXIT.invalid);
  }
  const asYaml = opts.yaml === true && ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    return asYaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    // The first line says what and where; the YAML parser adds a source excerpt below it.
    const reason = (e as Error).message.split('\n')[0];
    throw new CliError(`${file}: not valid ${asYaml ? 'YAML' : 'JSON'}: ${reason}`, EXIT.invalid);
  }
}

/** A document that must be an object (a schema, a plan): anything else is refused here, with the file. */
export function readObject(file: string, opts: { yaml?: boolean } = {}): Record<string, unknown> {
  const doc = readDocument(file, opts);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CliError(`${file}: expected an object at the top level`, EXIT.invalid);
  }
  return doc as Record<string, unknown>;
}
