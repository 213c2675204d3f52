import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { deepFreeze } from '../shared/json.js';
import { type Config, ConfigSchema } from './config-schema.js';

/** A configuration problem: start-up stops and prints `problems`, one line each. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validate = ajv.compile(ConfigSchema);

function keyOf(path: string): string {
  return path.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
}

function describe(e: ErrorObject, input: unknown): string {
  const key = keyOf(e.instancePath);
  const value = e.instancePath
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      input,
    );
  const shown = JSON.stringify(value);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const parent = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
      const allowed = Object.keys(parent?.properties ?? {}).join(', ');
      const name = `${e.instancePath ? `${key}.` : ''}${String(params.additionalProperty)}`;
      return `${name}: unknown key (allowed here: ${allowed})`;
    }
    case 'enum':
    case 'const':
    case 'anyOf': {
      const sub = e.schema as { const?: unknown }[] | undefined;
      const allowed = Array.isArray(sub) ? sub.map((s) => JSON.stringify(s.const)).join(', ') : '';
      return `${key} = ${shown}: must be one of ${allowed || JSON.stringify(params.allowedValues)}`;
    }
    default:
      return `${key} = ${shown}: ${e.message}`;
  }
}

/** Validates a parsed configuration object, filling defaults; throws ConfigError. */
export function validateConfig(input: unknown, env: NodeJS.ProcessEnv = {}): Config {
  const data = structuredClone(input ?? {}) as Record<string, unknown>;
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError(['the file must hold a mapping']);
  applyEnvironment(data, env);
  if (!validate(data)) {
    // anyOf reports each branch too; the anyOf line alone says what is allowed.
    const errs = (validate.errors ?? []).filter(
      (e, _, all) =>
        !(
          e.keyword === 'const' && all.some((o) => o.keyword === 'anyOf' && o.instancePath === e.instancePath)
        ),
    );
    throw new ConfigError(errs.map((e) => describe(e, data)));
  }
  const config = data as unknown as Config;
  const problems: string[] = [];
  if (config.storage.driver === 'postgres' && !config.storage.postgresUrl) {
    problems.push(
      'storage.postgresUrl: required when storage.driver is postgres (set SWITCHYARD_DATABASE_URL)',
    );
  }
  if (config.cache.driver === 'redis' && !config.cache.redisUrl) {
    problems.push('cache.redisUrl: required when cache.driver is redis (set SWITCHYARD_REDIS_URL)');
  }
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(config);
}

function applyEnvironment(data: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const section = (name: string) => {
    const s = data[name];
    if (s === undefined) data[name] = {};
    return data[name] as Record<string, unknown>;
  };
  if (env.SWITCHYARD_DATABASE_URL) section('storage').postgresUrl = env.SWITCHYARD_DATABASE_URL;
  if (env.SWITCHYARD_REDIS_URL) section('cache').redisUrl = env.SWITCHYARD_REDIS_URL;
  if (env.SWITCHYARD_PORT) {
    const port = Number(env.SWITCHYARD_PORT);
    section('server').port = Number.isInteger(port) ? port : env.SWITCHYARD_PORT;
  }
}

/** Reads and validates the configuration file (if any) plus the environment. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  if (!file) return validateConfig({}, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : '';
    throw new ConfigError([`${file}: not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`]);
  }
  return validateConfig(parsed, env);
}
