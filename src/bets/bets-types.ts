import { type Static, Type } from '@sinclair/typebox';

/**
 * BETS domain: suites of golden cases per tenant and workflow, the assertions a candidate model
 * version must satisfy, and the configuration of a suite. TypeBox schemas, so the admin API, the
 * export file format and validation share one definition.
 *
 * Inputs are provider-neutral (system, messages, tools); provider-codec.ts renders them in the
 * wire format of whichever model version a run calls.
 */

const strict = { additionalProperties: false } as const;
export const JsonSchemaObject = Type.Record(Type.String(), Type.Unknown(), {
  description: 'a JSON Schema (draft-07, or 2020-12 when $schema says so)',
});

export const WorkflowId = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
  description: 'lower-case letters, digits, ".", "_" and "-"; at most 63',
});
export const CaseId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
  description: 'letters, digits, ".", "_", ":" and "-"; at most 128 (BFCL ids fit)',
});
const ToolName = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' });

export const ToolCall = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 200 }), name: ToolName, arguments: Type.Unknown() },
  strict,
);
export type ToolCall = Static<typeof ToolCall>;

export const Message = Type.Union([
  Type.Object({ role: Type.Literal('user'), content: Type.String() }, strict),
  Type.Object(
    {
      role: Type.Literal('assistant'),
      content: Type.Optional(Type.String()),
      toolCalls: Type.Optional(Type.Array(ToolCall, { maxItems: 64 })),
    },
    strict,
  ),
  Type.Object(
    {
      role: Type.Literal('tool'),
      toolCallId: Type.String({ minLength: 1, maxLength: 200 }),
      name: Type.Optional(ToolName),
      content: Type.String(),
    },
    strict,
  ),
]);
export type Message = Static<typeof Message>;

export const ToolDef = Type.Object(
  {
    name: ToolName,
    description: Type.Optional(Type.String({ maxLength: 8000 })),
    parameters: JsonSchemaObject,
  },
  strict,
);
export type ToolDef = Static<typeof ToolDef>;

export const ToolChoice = Type.Union([
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Literal('none'),
  Type.Object({ name: ToolName }, strict),
]);
export type ToolChoice = Static<typeof ToolChoice>;

export const CaseInput = Type.Object(
  {
    system: Type.Optional(Type.String({ maxLength: 200_000 })),
    messages: Type.Array(Message, { minItems: 1, maxItems: 500 }),
    tools: Type.Array(ToolDef, { maxItems: 128, default: [] }),
    toolChoice: Type.Optional(ToolChoice),
  },
  strict,
);
export type CaseInput = Static<typeof CaseInput>;

/**
 * The model must call a tool: `tool` (absent: any offered tool, as promptfoo's
 * is-valid-openai-tools-call), with arguments that satisfy the offered tool's own schema and,
 * when given, `argumentsSchema` and the BFCL-style accepted values per argument (`""` among
 * them: the argument may be left out).
 */
export const ToolCallAssertion = Type.Object(
  {
    kind: Type.Literal('tool_call'),
    tool: Type.Optional(ToolName),
    argumentsSchema: Type.Optional(JsonSchemaObject),
    acceptedValues: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Unknown(), { minItems: 1 }))),
  },
  strict,
);
export type ToolCallAssertion = Static<typeof ToolCallAssertion>;

const Negate = Type.Optional(Type.Boolean({ description: 'the output must NOT satisfy the check' }));
export const RegexFormat = Type.Object(
  {
    kind: Type.Literal('format'),
    check: Type.Literal('regex'),
    pattern: Type.String({ minLength: 1, maxLength: 4000 }),
    flags: Type.Optional(Type.String({ pattern: '^[imsu]*$' })),
    negate: Negate,
  },
  strict,
);
export const JsonFormat = Type.Object(
  {
    kind: Type.Literal('format'),
    check: Type.Literal('json'),
    /** `whole`: the output is JSON; `anywhere`: it contains a JSON object or array. */
    extract: Type.Union([Type.Literal('whole'), Type.Literal('anywhere')]),
    schema: Type.Optional(JsonSchemaObject),
  },
  strict,
);
export const TextFormat = Type.Object(
  {
    kind: Type.Literal('format'),
    check: Type.Union([Type.Literal('equals'), Type.Literal('contains')]),
    value: Type.String({ maxLength: 100_000 }),
    ignoreCase: Type.Optional(Type.Boolean()),
    negate: Negate,
  },
  strict,
);
export const FormatAssertion = Type.Union([RegexFormat, JsonFormat, TextFormat]);
export type FormatAssertion = Static<typeof FormatAssertion>;

/**
 * The answer must mean the same as the golden answer (this assertion's `golden`, else the
 * case's golden text), scored by the suite's pinned judge, or by deterministic similarity when
 * the suite has no judge; it passes at `passScore` or above.
 */
export const SemanticAssertion = Type.Object(
  {
    kind: Type.Literal('semantic'),
    golden: Type.Optional(Type.String({ maxLength: 100_000 })),
    rubric: Type.Optional(Type.String({ maxLength: 8000 })),
    passScore: Type.Number({ minimum: 0, maximum: 1 }),
  },
  strict,
);
export type SemanticAssertion = Static<typeof SemanticAssertion>;

export const Assertion = Type.Union([ToolCallAssertion, FormatAssertion, SemanticAssertion]);
export type Assertion = Static<typeof Assertion>;
export type AssertionKind = Assertion['kind'];
export const ASSERTION_KINDS: readonly AssertionKind[] = ['tool_call', 'format', 'semantic'];

/** What a good answer looked like when the case was made: shown in reports as "expected". */
export const GoldenAnswer = Type.Object(
  {
    text: Type.Optional(Type.String({ maxLength: 100_000 })),
    toolCall: Type.Optional(Type.Object({ name: ToolName, arguments: Type.Unknown() }, strict)),
  },
  strict,
);
export type GoldenAnswer = Static<typeof GoldenAnswer>;

export const CaseSource = Type.Union([
  Type.Literal('manual'),
  Type.Literal('bfcl'),
  Type.Literal('promptfoo'),
  Type.Literal('capture'),
  Type.Literal('file'),
]);
export type CaseSource = Static<typeof CaseSource>;

/** A case as clients write it. */
export const CaseSpec = Type.Object(
  {
    id: CaseId,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    input: CaseInput,
    assertions: Type.Array(Assertion, { minItems: 1, maxItems: 32 }),
    golden: Type.Optional(GoldenAnswer),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 32 })),
  },
  strict,
);
export type CaseSpec = Static<typeof CaseSpec>;

/** A stored case: the spec plus where it came from and how old its golden answer is. */
export interface SuiteCase extends CaseSpec {
  source: CaseSource;
  /** When the golden answer was last established (created, imported or refreshed). */
  goldenAt: string;
  /** The suite version that introduced this revision of the case. */
  sinceVersion: number;
}

export const PassRule = Type.Union([Type.Literal('majority'), Type.Literal('all')]);
export type PassRule = Static<typeof PassRule>;
export const BaselineMode = Type.Union([
  Type.Literal('on_failure'),
  Type.Literal('always'),
  Type.Literal('never'),
]);
export type BaselineMode = Static<typeof BaselineMode>;

export const SuiteConfig = Type.Object(
  {
    /** The pinned judge model version for semantic assertions; null: deterministic similarity. */
    judgeVersionId: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
    /** Runs of each case per model version. */
    k: Type.Integer({ minimum: 1, maximum: 10 }),
    passRule: PassRule,
    /**
     * When the stable version runs the case too: only for cases failing on the candidate
     * (default: the baseline is only needed to excuse a failure), for every case, or never.
     */
    baseline: BaselineMode,
    caseTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
    maxTokens: Type.Integer({ minimum: 1, maximum: 200_000 }),
    /** A case whose golden answer is older than this is stale; a suite with one is flagged. */
    staleAfterDays: Type.Integer({ minimum: 1, maximum: 3650 }),
    /** Stop the run at the first case that errors (else errors are recorded and it goes on). */
    stopOnCaseError: Type.Boolean(),
    /** A provider failing this many calls in a row stops the run: nothing more can be learned. */
    maxConsecutiveErrors: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  strict,
);
export type SuiteConfig = Static<typeof SuiteConfig>;
export const SuiteConfigPatch = Type.Partial(SuiteConfig, strict);
export type SuiteConfigPatch = Static<typeof SuiteConfigPatch>;

export const DEFAULT_SUITE_CONFIG: SuiteConfig = {
  judgeVersionId: null,
  k: 1,
  passRule: 'majority',
  baseline: 'on_failure',
  caseTimeoutMs: 60_000,
  maxTokens: 1024,
  staleAfterDays: 91,
  stopOnCaseError: false,
  maxConsecutiveErrors: 10,
};

export const Suite = Type.Object({
  id: Type.String({ description: '<tenantId>:<workflow>' }),
  tenantId: Type.String(),
  workflow: WorkflowId,
  /** The channel whose upgrades this suite gates. */
  channel: Type.String(),
  name: Type.String(),
  config: SuiteConfig,
  /** Every change to the configuration or to a case makes a new version. */
  version: Type.Integer({ minimum: 1 }),
  caseCount: Type.Integer({ minimum: 0 }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Suite = Static<typeof Suite>;

export const SuiteVersion = Type.Object({
  suiteId: Type.String(),
  version: Type.Integer(),
  change: Type.String(),
  actor: Type.String(),
  caseCount: Type.Integer(),
  createdAt: Type.String(),
});
export type SuiteVersion = Static<typeof SuiteVersion>;

export const suiteIdOf = (tenantId: string, workflow: string): string => `${tenantId}:${workflow}`;
