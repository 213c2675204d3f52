/**
 * A simulation scenario (YAML): a whole upgrade event on a fake clock.
 *
 *   seed: 7
 *   start: 2026-01-05T09:00:00Z
 *   days: 21
 *   tickMinutes: 30
 *   trafficScale: 0.25           # a quarter of the fleet's requests per hour: cheaper, same story
 *   fleet: {...}                 # optional: an inline fleet (src/fleet/fleet-spec.ts); default: the demo fleet
 *   simulator:                   # behaviour profiles of the upstream models (BETS runs against them)
 *     models: { sim-2026-06: { drift: [{ kind: number_as_string, rate: 1, tenants: [logistics-planner] }] } }
 *   behaviour:                   # live traffic outcomes, per version and over time
 *     default: { toolCallFailureRate: 0.01 }
 *     versions: { assistant-2026-06: { latencyMs: 350 } }
 *     incidents:
 *       - { tenant: support-bot, version: assistant-2026-06, fromHour: 30, toolCallFailureRate: 0.1 }
 *   approvals:
 *     - { tenant: legal-summarizer, party: platform, by: alice, afterHours: 24, repeat: true }
 */
import { readFile } from 'node:fs/promises';
import { type Static, Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { FleetSpec } from '../fleet/fleet-spec.js';
import { ApprovalParty, Id } from '../registry/types.js';
import { invalidInput } from '../shared/errors.js';
import { compileConfigValidator } from '../simulator/config-errors.js';
import { BehaviourProfileSchema } from '../simulator/profile.js';

const strict = { additionalProperties: false } as const;
const Rate = Type.Number({ minimum: 0, maximum: 1 });

/** What live requests of one version look like; every field is optional and layered. */
export const Outcomes = Type.Object(
  {
    /** Share of checked tool calls that break the tenant's contract. */
    toolCallFailureRate: Type.Optional(Rate),
    /** Share of checked tool calls the gateway coerces into shape (minor drift). */
    coercionRate: Type.Optional(Rate),
    /** Share of requests that fail upstream (5xx, timeouts). */
    errorRate: Type.Optional(Rate),
    /** Share of reported tasks that the agent reports failed. */
    taskFailureRate: Type.Optional(Rate),
    /** Share of downstream reports that are errors. */
    downstreamErrorRate: Type.Optional(Rate),
    /** Median latency; the tail follows a lognormal with p99 = 4 x median. */
    latencyMs: Type.Optional(Type.Number({ minimum: 1, maximum: 600_000 })),
    /** Mean judge similarity of the candidate's answers to stable's on sampled pairs. */
    judgeSimilarity: Type.Optional(Rate),
  },
  strict,
);
export type Outcomes = Static<typeof Outcomes>;

export const Incident = Type.Object(
  {
    tenant: Id,
    version: Id,
    fromHour: Type.Number({ minimum: 0 }),
    toHour: Type.Optional(Type.Number({ minimum: 0 })),
    ...Outcomes.properties,
  },
  strict,
);
export type Incident = Static<typeof Incident>;

export const ScheduledApproval = Type.Object(
  {
    tenant: Id,
    party: ApprovalParty,
    by: Type.String({ minLength: 1, maxLength: 200 }),
    /** Hours after the upgrade starts; the approval is given to whatever stage is waiting then. */
    afterHours: Type.Number({ minimum: 0 }),
    /** Keep approving every stage that waits for this party from then on (a diligent approver). */
    repeat: Type.Boolean({ default: false }),
  },
  strict,
);
export type ScheduledApproval = Static<typeof ScheduledApproval>;

export const Scenario = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    seed: Type.Integer({ default: 1 }),
    start: Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$',
      default: '2026-01-05T09:00:00Z',
      description: 'ISO-8601 date and time the simulated clock starts at',
    }),
    days: Type.Number({ exclusiveMinimum: 0, maximum: 120, default: 21 }),
    tickMinutes: Type.Number({ minimum: 1, maximum: 240, default: 30 }),
    /** Multiplies every tenant's requests per hour (cheaper or busier runs of one fleet). */
    trafficScale: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 0.25 }),
    /** The fleet to upgrade; absent: the built-in demo fleet. */
    fleet: Type.Optional(FleetSpec),
    simulator: Type.Object(
      { models: Type.Record(Type.String({ minLength: 1 }), BehaviourProfileSchema, { default: {} }) },
      { ...strict, default: {} },
    ),
    behaviour: Type.Object(
      {
        default: Type.Optional(Outcomes),
        versions: Type.Record(Id, Outcomes, { default: {} }),
        incidents: Type.Array(Incident, { default: [] }),
      },
      { ...strict, default: {} },
    ),
    approvals: Type.Array(ScheduledApproval, { default: [] }),
  },
  strict,
);
export type Scenario = Static<typeof Scenario>;

const validate = compileConfigValidator(Scenario);

/** Validates a parsed scenario document, with defaults filled in; errors name each key. */
export function parseScenario(doc: unknown, source = 'scenario'): Scenario {
  const value = doc ?? {};
  validate(value, '', source);
  const scenario = value as Scenario;
  if (Number.isNaN(Date.parse(scenario.start))) {
    throw invalidInput(`invalid ${source}: start: not a date`, [{ path: 'start', message: 'not a date' }]);
  }
  return scenario;
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw invalidInput(`cannot read the scenario file ${file}`, [
      { path: file, message: (e as Error).message },
    ]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw invalidInput(`${file} is not valid YAML`, [{ path: file, message: (e as Error).message }]);
  }
  return parseScenario(doc, file);
}
