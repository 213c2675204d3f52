/**
 * Validation of scenario data (profiles, simulator config) with messages a person can act on:
 * each names the key (`models.sim-gpt.drift[0].kind`) and what is allowed there. Ajv fills the
 * schema defaults while validating (useDefaults), so a valid document comes back complete.
 */
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import { type ErrorDetail, invalidInput } from '../shared/errors.js';

// One instance for all config schemas: compiled once at module load, never on a request path.
const ajv = new Ajv({ useDefaults: true, allErrors: true, verbose: true, strict: true });

/** `/models/a.b/drift/0/kind` -> `models["a.b"].drift[0].kind` under a prefix. */
export function keyPath(prefix: string, instancePath: string): string {
  let out = prefix;
  if (!instancePath) return out;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describe(error: ErrorObject, prefix: string): ErrorDetail {
  const path = keyPath(prefix, error.instancePath);
  const params = error.params as Record<string, unknown>;
  const parent = error.parentSchema as SchemaObject | undefined;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {});
      return {
        path: keyPath(path, `/${String(params.additionalProperty)}`),
        message: `unknown key; allowed keys here: ${allowed.join(', ') || '(none)'}`,
      };
    }
    case 'required':
      return { path: keyPath(path, `/${String(params.missingProperty)}`), message: 'is required' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')} (got ${show(error.data)})`,
      };
    case 'type':
      return { path, message: `must be of type ${String(params.type)} (got ${show(error.data)})` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `${error.message ?? 'out of range'} (got ${show(error.data)})` };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

/**
 * Compiles a validator that fills defaults in place and throws an invalid-input error listing
 * every problem. `prefix` starts each key path (e.g. `models.sim-gpt`); `source` names the
 * document (a file) in the message.
 */
export function compileConfigValidator(
  schema: SchemaObject,
): (value: unknown, prefix: string, source?: string) => void {
  const validate = ajv.compile(schema);
  return (value, prefix, source) => {
    if (validate(value)) return;
    const details = (validate.errors ?? []).map((e) => describe(e, prefix));
    const lines = details.map((d) => `${d.path || '(root)'}: ${d.message}`);
    throw invalidInput(
      `invalid ${source ?? (prefix || 'configuration')}: ${lines.join('; ')}`,
      details,
      'Fix the listed keys; see BehaviourProfileSchema in src/simulator/profile.ts for every field.',
    );
  };
}
