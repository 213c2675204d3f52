import type { ContractDefinition } from '../registry/types.js';
import { compileRegex, compileSchema } from './schema-compiler.js';

/**
 * Checks that a contract definition compiles, so nothing invalid is ever registered.
 * `where` is the JSON pointer of the definition in the request.
 */
export function assertContractCompiles(def: ContractDefinition, where: string): void {
  switch (def.kind) {
    case 'tool':
      compileSchema(def.parameters, `${where}/parameters`);
      return;
    case 'format_json_schema':
      compileSchema(def.schema, `${where}/schema`);
      return;
    case 'format_regex':
      compileRegex(def.pattern, def.flags, `${where}/pattern`);
      return;
  }
}
