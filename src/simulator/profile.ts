/**
 * A behaviour profile is what one simulated model version "is": how fast it answers, how often it
 * fails, how accurately it calls tools and which kinds of drift it shows. Profiles are data
 * (scenario YAML files), so the schema below is the file format; every field has a default, and
 * `resolveProfile` turns a partial profile into a complete one.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { compileConfigValidator } from './config-errors.js';

/** A string enum as JSON Schema `enum` (not TypeBox's anyOf of consts), for readable errors. */
function StringEnum<const T extends readonly string[]>(values: T, options: { default?: T[number] } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

const Rate = (description: string) =>
  Type.Number({ minimum: 0, maximum: 1, default: 0, description: `${description} (0..1)` });

/** An optional object that defaults to `{}`, so defaults nested inside it are filled too. */
function Section<T extends TSchema>(schema: T) {
  return Type.Optional(Type.Unsafe<Static<T>>({ ...schema, default: {} }));
}

export const LATENCY_DISTRIBUTIONS = ['fixed', 'uniform', 'lognormal'] as const;
export type LatencyDistributionKind = (typeof LATENCY_DISTRIBUTIONS)[number];

export const LatencyDistributionSchema = Type.Object(
  {
    distribution: Type.Optional(StringEnum(LATENCY_DISTRIBUTIONS, { default: 'fixed' })),
    p50Ms: Type.Optional(Type.Number({ minimum: 0, default: 0, description: 'median in milliseconds' })),
    p99Ms: Type.Optional(
      Type.Number({ minimum: 0, description: '99th percentile in milliseconds; defaults to p50Ms' }),
    ),
  },
  { additionalProperties: false },
);

export const LatencyProfileSchema = Type.Object(
  {
    firstToken: Section(LatencyDistributionSchema),
    total: Section(LatencyDistributionSchema),
    interChunkMs: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'fixed delay between streamed chunks; when absent the time left until `total` is spread over the chunks',
      }),
    ),
  },
  { additionalProperties: false },
);

const RateOnly = (description: string) =>
  Type.Object({ rate: Type.Optional(Rate(description)) }, { additionalProperties: false });

export const ErrorProfileSchema = Type.Object(
  {
    rateLimit: Section(
      Type.Object(
        {
          rate: Type.Optional(Rate('share of requests answered 429')),
          retryAfterSeconds: Type.Optional(Type.Number({ minimum: 0, default: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    serverError: Section(RateOnly('share of requests answered 500')),
    overloaded: Section(RateOnly('share answered 529 (Anthropic) / 503 (OpenAI)')),
    timeout: Section(
      Type.Object(
        {
          rate: Type.Optional(Rate('share of requests that hang')),
          hangMs: Type.Optional(Type.Number({ minimum: 0, default: 30_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    malformed: Section(RateOnly('share of 200s whose SSE stream or JSON body is cut short')),
    nonJson: Section(RateOnly('share of 200s whose body is an HTML page instead of JSON')),
  },
  { additionalProperties: false },
);

export const DRIFT_KINDS = [
  'number_as_string',
  'renamed_argument',
  'missing_required',
  'extra_argument',
  'other_tool',
  'json_in_markdown',
  'changed_wording',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export const DriftSchema = Type.Object(
  {
    kind: StringEnum(DRIFT_KINDS),
    rate: Type.Number({ minimum: 0, maximum: 1, description: 'probability per eligible response (0..1)' }),
    tools: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'only calls to these tools; absent = all' }),
    ),
    tenants: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'only requests whose x-switchyard-tenant is listed; absent = every request',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Drift = Static<typeof DriftSchema>;

export const JudgeProfileSchema = Type.Object(
  {
    noiseRate: Type.Optional(Rate('share of verdicts whose score is perturbed')),
    noiseAmplitude: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.3 })),
  },
  { additionalProperties: false },
);

export const BehaviourProfileSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    latency: Section(LatencyProfileSchema),
    errors: Section(ErrorProfileSchema),
    toolCallAccuracy: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: 1,
        description: 'probability of calling the right tool with the right arguments',
      }),
    ),
    drift: Type.Optional(Type.Array(DriftSchema, { default: [] })),
    judge: Type.Optional(JudgeProfileSchema),
    streaming: Section(
      Type.Object(
        {
          chunkChars: Type.Optional(
            Type.Integer({ minimum: 1, default: 16, description: 'characters per streamed fragment' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A profile as written in a scenario file or passed in code: every field may be left out. */
export type BehaviourProfile = Static<typeof BehaviourProfileSchema>;

export interface LatencyDistribution {
  distribution: LatencyDistributionKind;
  p50Ms: number;
  p99Ms?: number;
}

/** A profile with every default filled in; what the simulator runs on. */
export interface ResolvedProfile {
  description?: string;
  latency: { firstToken: LatencyDistribution; total: LatencyDistribution; interChunkMs?: number };
  errors: {
    rateLimit: { rate: number; retryAfterSeconds: number };
    serverError: { rate: number };
    overloaded: { rate: number };
    timeout: { rate: number; hangMs: number };
    malformed: { rate: number };
    nonJson: { rate: number };
  };
  toolCallAccuracy: number;
  drift: Drift[];
  judge?: { noiseRate: number; noiseAmplitude: number };
  streaming: { chunkChars: number };
}

// A resolved profile is still a valid profile: it can be written back to a scenario file.
const _resolvedIsAProfile = (p: ResolvedProfile): BehaviourProfile => p;
void _resolvedIsAProfile;

const validateProfile = compileConfigValidator(BehaviourProfileSchema);

/**
 * Validates a profile and fills in its defaults. Throws an invalid-input error naming each bad
 * key and what is allowed there. `path` prefixes the key names in messages (e.g. `models.gpt`).
 */
export function resolveProfile(profile: BehaviourProfile | undefined, path = 'profile'): ResolvedProfile {
  const copy: unknown = structuredClone(profile ?? {});
  validateProfile(copy, path);
  // Validated against the schema with defaults applied, so every field ResolvedProfile needs is set.
  return copy as ResolvedProfile;
}

/** All defaults: a fast, error-free, perfectly accurate model with no drift. */
export const defaultProfile: ResolvedProfile = resolveProfile({});
