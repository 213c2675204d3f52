import type { ValidateFunction } from 'ajv';
import type { Contract } from '../registry/types.js';
import { compileRegex, compileSchema } from './schema-compiler.js';

/**
 * Contracts compiled once per contract version. The routing snapshot hands the request path
 * `Contract` records; this cache turns one into its validator with a Map lookup by id and a
 * comparison of `version` and `updatedAt` (a deleted and re-created contract restarts at
 * version 1, so the version alone could hit a stale entry). Only a miss reaches `compileSchema`,
 * which hashes the schema and shares validators between identical schemas across tenants.
 */
export interface CompiledToolContract {
  readonly kind: 'tool';
  readonly contract: Contract;
  readonly schema: Record<string, unknown>;
  readonly validate: ValidateFunction;
}

export interface CompiledRegexFormat {
  readonly kind: 'format_regex';
  readonly contract: Contract;
  readonly regex: RegExp;
}

export interface CompiledJsonFormat {
  readonly kind: 'format_json_schema';
  readonly contract: Contract;
  readonly schema: Record<string, unknown>;
  readonly validate: ValidateFunction;
}

export type CompiledContract = CompiledToolContract | CompiledRegexFormat | CompiledJsonFormat;

interface Entry {
  version: number;
  updatedAt: string;
  compiled: CompiledContract;
}

/** Bound on cached contracts; the oldest entry goes first (Map keeps insertion order). */
export const MAX_CACHED_CONTRACTS = 20_000;

const cache = new Map<string, Entry>();

function compile(contract: Contract): CompiledContract {
  const def = contract.definition;
  const where = `/contracts/${contract.id}`;
  switch (def.kind) {
    case 'tool':
      return {
        kind: 'tool',
        contract,
        schema: def.parameters,
        validate: compileSchema(def.parameters, where),
      };
    case 'format_json_schema':
      return {
        kind: 'format_json_schema',
        contract,
        schema: def.schema,
        validate: compileSchema(def.schema, where),
      };
    case 'format_regex':
      return { kind: 'format_regex', contract, regex: compileRegex(def.pattern, def.flags, where) };
  }
}

/**
 * The compiled form of a contract. Registration already checked that it compiles
 * (`assertContractCompiles`), so a throw here means a registry bug, not bad input.
 */
export function compiledContract(contract: Contract): CompiledContract {
  const hit = cache.get(contract.id);
  if (hit && hit.version === contract.version && hit.updatedAt === contract.updatedAt) return hit.compiled;
  const compiled = compile(contract);
  if (hit) cache.delete(contract.id);
  else if (cache.size >= MAX_CACHED_CONTRACTS) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(contract.id, { version: contract.version, updatedAt: contract.updatedAt, compiled });
  return compiled;
}

/** For tests: how many contract versions are cached. */
export function compiledContractCount(): number {
  return cache.size;
}

export function clearCompiledContracts(): void {
  cache.clear();
}
