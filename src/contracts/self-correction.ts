import { nameSimilarity } from './name-similarity.js';
import type { InvalidToolCall, UnparsableReason } from './tool-call-validator.js';
import { type Violation, violationKey } from './violations.js';

/**
 * The machine-readable error an agent can self-correct from: which tool call, which argument
 * (JSON pointer), what the contract expected and what came, plus concrete suggestions where
 * the fix is guessable (a renamed argument, a near-miss tool name, a markdown fence). It is
 * wire-neutral; `self-correction-wire.ts` puts it into OpenAI and Anthropic shapes.
 */
export const SELF_CORRECTION_TYPE = 'switchyard.tool_call_error';

export type SelfCorrectionKind = InvalidToolCall['kind'];

export interface SelfCorrectionSuggestion {
  /** `rename_argument`: send `from`'s value under `to`; `use_tool`: call `to` instead of `from`. */
  action: 'rename_argument' | 'use_tool' | 'remove_fence';
  from: string;
  to: string;
}

export interface SelfCorrectionError {
  type: typeof SELF_CORRECTION_TYPE;
  kind: SelfCorrectionKind;
  /** For unparsable_arguments: why the arguments could not be read. */
  reason?: UnparsableReason;
  tool: string;
  toolCallId: string | null;
  /** The call's position among the response's tool calls, when known. */
  index?: number;
  message: string;
  errors: Violation[];
  suggestions: SelfCorrectionSuggestion[];
  /** For unknown_tool: the tools that exist. */
  availableTools?: string[];
}

/** Renames worth proposing: an unexpected argument whose name resembles a missing required one. */
const RENAME_THRESHOLD = 0.75;
const TOOL_NAME_THRESHOLD = 0.8;

function renameSuggestions(violations: readonly Violation[]): SelfCorrectionSuggestion[] {
  const extra = violations.filter((v) => v.keyword === 'additionalProperties');
  const missing = violations.filter((v) => v.keyword === 'required');
  const out: SelfCorrectionSuggestion[] = [];
  const used = new Set<string>();
  for (const e of extra) {
    const parent = e.path.slice(0, e.path.lastIndexOf('/'));
    let best: { to: string; score: number } | undefined;
    for (const m of missing) {
      if (used.has(m.path) || m.path.slice(0, m.path.lastIndexOf('/')) !== parent) continue;
      const { score } = nameSimilarity(violationKey(e), violationKey(m));
      if (score >= RENAME_THRESHOLD && score > (best?.score ?? 0)) best = { to: m.path, score };
    }
    if (best) {
      used.add(best.to);
      out.push({ action: 'rename_argument', from: e.path, to: best.to });
    }
  }
  return out;
}

function describeViolation(v: Violation): string {
  const where = v.path === '' ? 'the arguments' : `argument ${v.path}`;
  return v.keyword === 'required' ? `${where} is missing` : `${where}: expected ${v.expected}, got ${v.got}`;
}

/** Turns an invalid tool-call outcome into the error an agent sees. */
export function toSelfCorrectionError(
  outcome: InvalidToolCall,
  opts: { index?: number } = {},
): SelfCorrectionError {
  const base = {
    type: SELF_CORRECTION_TYPE,
    kind: outcome.kind,
    tool: outcome.tool,
    toolCallId: outcome.callId,
    ...(opts.index === undefined ? {} : { index: opts.index }),
  } as const;
  switch (outcome.kind) {
    case 'unknown_tool': {
      const ranked = outcome.knownTools
        .map((t) => ({ t, s: nameSimilarity(outcome.tool, t).score }))
        .filter((x) => x.s >= TOOL_NAME_THRESHOLD)
        .sort((a, b) => b.s - a.s);
      const closest = ranked[0]?.t;
      return {
        ...base,
        message: `Tool "${outcome.tool}" does not exist. Call one of: ${outcome.knownTools.join(', ') || '(none)'}.`,
        errors: [],
        suggestions: closest ? [{ action: 'use_tool', from: outcome.tool, to: closest }] : [],
        availableTools: outcome.knownTools,
      };
    }
    case 'unparsable_arguments': {
      const fenced = outcome.reason === 'json_in_markdown';
      return {
        ...base,
        reason: outcome.reason,
        message: fenced
          ? `The arguments of "${outcome.tool}" are JSON wrapped in a markdown code fence. Send the JSON object itself, without \`\`\` fences or prose.`
          : `The arguments of "${outcome.tool}" could not be parsed: ${outcome.detail}. Send one JSON object.`,
        errors: [
          {
            path: '',
            keyword: 'json',
            expected: 'a JSON object',
            got: fenced ? 'JSON inside a markdown code fence' : outcome.detail,
          },
        ],
        suggestions: fenced ? [{ action: 'remove_fence', from: '```json ... ```', to: '{...}' }] : [],
      };
    }
    case 'schema_violation': {
      const lines = outcome.violations.map(describeViolation);
      return {
        ...base,
        message: `The arguments of "${outcome.tool}" do not match its schema: ${lines.join('; ')}.`,
        errors: outcome.violations,
        suggestions: renameSuggestions(outcome.violations),
      };
    }
  }
}
