/**
 * The simulator's part of a scenario file (YAML):
 *
 *   seed: 42
 *   models:
 *     sim-gpt-2026-03: { toolCallAccuracy: 0.97, drift: [{ kind: number_as_string, rate: 0.2 }] }
 *     sim-judge: { judge: { noiseRate: 0.05 } }
 *   knownCases:
 *     bfcl: [../data/bfcl/BFCL_v4_simple_python.json]   # relative to the YAML file
 *     cases: [{ messagesMatch: "...", expected: { name: get_weather, arguments: { city: Paris } } }]
 *
 * Validated against a TypeBox schema; each error names the key and what is allowed there.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { invalidInput } from '../shared/errors.js';
import { compileConfigValidator } from './config-errors.js';
import { type KnownCase, knownCasesFromBfcl } from './known-cases.js';
import { BehaviourProfileSchema, type ResolvedProfile, resolveProfile } from './profile.js';

const ExpectedCallSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    arguments: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

export const KnownCaseSchema = Type.Object(
  {
    id: Type.Optional(Type.String()),
    messagesMatch: Type.String({ minLength: 1 }),
    expected: ExpectedCallSchema,
    followUps: Type.Optional(Type.Array(ExpectedCallSchema)),
    tools: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

export const SimulatorConfigSchema = Type.Object(
  {
    seed: Type.Optional(Type.Integer({ default: 1 })),
    models: Type.Record(Type.String({ minLength: 1 }), BehaviourProfileSchema),
    knownCases: Type.Optional(
      Type.Object(
        {
          bfcl: Type.Optional(
            Type.Array(Type.String({ minLength: 1 }), {
              default: [],
              description: 'BFCL case files; each X.json needs X.answers.json beside it',
            }),
          ),
          cases: Type.Optional(Type.Array(KnownCaseSchema, { default: [] })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
  },
  { additionalProperties: false },
);

export type SimulatorConfigInput = Static<typeof SimulatorConfigSchema>;

/** A parsed, validated simulator section, every default filled. */
export interface SimulatorConfig {
  seed: number;
  models: Record<string, ResolvedProfile>;
  knownCases: { bfcl: string[]; cases: KnownCase[] };
}

/** A config ready for `startSimulator`: BFCL files read into known cases. */
export interface LoadedSimulatorConfig {
  seed: number;
  models: Record<string, ResolvedProfile>;
  knownCases: KnownCase[];
}

const validateConfig = compileConfigValidator(SimulatorConfigSchema);
const TOP_LEVEL_KEYS = Object.keys(SimulatorConfigSchema.properties);

export interface ParseOptions {
  /** Names the document in error messages (a file path). */
  source?: string;
  /**
   * Ignore top-level keys that are not the simulator's (a whole scenario file also holds the
   * fleet, versions and timeline). Keys inside the simulator's part stay strict.
   */
  allowOtherKeys?: boolean;
}

export function parseScenarioProfiles(yamlText: string, options: ParseOptions = {}): SimulatorConfig {
  const source = options.source ?? 'scenario';
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (error) {
    throw invalidInput(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw invalidInput(`${source}: expected a mapping with keys ${TOP_LEVEL_KEYS.join(', ')}`);
  }
  const value: Record<string, unknown> = options.allowOtherKeys
    ? Object.fromEntries(Object.entries(doc).filter(([k]) => TOP_LEVEL_KEYS.includes(k)))
    : { ...doc };
  validateConfig(value, '', source);
  const config = value as Required<SimulatorConfigInput> & { seed: number };
  const models: Record<string, ResolvedProfile> = {};
  for (const [name, profile] of Object.entries(config.models))
    models[name] = resolveProfile(profile, `models.${name}`);
  return {
    seed: config.seed,
    models,
    knownCases: {
      bfcl: config.knownCases.bfcl ?? [],
      cases: (config.knownCases.cases ?? []) as KnownCase[],
    },
  };
}

/** Reads and validates a scenario file and loads its BFCL known cases (paths relative to it). */
export async function loadSimulatorConfig(file: string, options: Omit<ParseOptions, 'source'> = {}) {
  const config = parseScenarioProfiles(await readFile(file, 'utf8'), { ...options, source: file });
  const knownCases: KnownCase[] = [...config.knownCases.cases];
  for (const bfclFile of config.knownCases.bfcl) {
    knownCases.push(...(await knownCasesFromBfcl(resolve(dirname(file), bfclFile))));
  }
  const loaded: LoadedSimulatorConfig = { seed: config.seed, models: config.models, knownCases };
  return loaded;
}
