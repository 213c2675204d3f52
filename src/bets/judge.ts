import type { ModelVersion } from '../registry/types.js';
import { buildJudgeMessages } from '../simulator/judge.js';
import type { Pricing } from './pricing.js';
import type { ProviderCaller } from './provider-caller.js';
import { buildRequestBody, parseReply } from './provider-codec.js';
import { extractJson } from './text-checks.js';

export interface JudgeInput {
  rubric?: string;
  golden: string;
  candidate: string;
}

export interface JudgeScore {
  score: number;
  reason: string;
  inputTokens: number;
  outputTokens: number;
  cost: number | null;
  providerCalls: number;
}

/** Scores whether a candidate answer is equivalent to the golden one. */
export interface Judge {
  score(input: JudgeInput, signal: AbortSignal): Promise<JudgeScore>;
}

/** The judge answered, but not with `{"score": 0..1, "reason": ...}`: the check cannot be made. */
export class JudgeAnswerError extends Error {
  constructor(
    message: string,
    readonly providerCalls: number,
  ) {
    super(message);
    this.name = 'JudgeAnswerError';
  }
}

/** Reads the judge's verdict from its text: bare JSON, JSON in a code fence, or JSON inside prose. */
export function parseJudgeAnswer(text: string | null): { score: number; reason: string } | string {
  if (text === null || text.trim() === '') return 'the judge gave no text answer';
  const found = extractJson(text);
  const value = found.found ? found.value : undefined;
  const excerpt = JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `the judge's answer is not JSON {"score", "reason"}: ${excerpt}`;
  }
  const { score, reason } = value as { score?: unknown; reason?: unknown };
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
    return `the judge's answer has no score between 0 and 1: ${excerpt}`;
  }
  return { score, reason: typeof reason === 'string' ? reason : '' };
}

/**
 * The pinned judge: a model version called through the same provider path as the cases (rate
 * limit, retries), with the judge protocol the simulator also plays (simulator/judge.ts).
 */
export class ModelJudge implements Judge {
  constructor(
    private readonly caller: ProviderCaller,
    private readonly version: ModelVersion,
    private readonly timeoutMs: number,
    private readonly pricing: Pricing,
  ) {}

  async score(input: JudgeInput, signal: AbortSignal): Promise<JudgeScore> {
    const { system, user } = buildJudgeMessages(input);
    const body = buildRequestBody(
      this.version,
      { system, messages: [{ role: 'user', content: user }], tools: [] },
      512,
    );
    const res = await this.caller.call(this.version, body, signal, this.timeoutMs);
    const reply = parseReply(this.version.providerKind, res.json);
    if (!reply) throw new JudgeAnswerError("the judge's response is not a completion", res.providerCalls);
    const parsed = parseJudgeAnswer(reply.answer.text);
    if (typeof parsed === 'string') throw new JudgeAnswerError(parsed, res.providerCalls);
    return {
      ...parsed,
      inputTokens: reply.inputTokens,
      outputTokens: reply.outputTokens,
      cost: this.pricing.cost(this.version, reply.inputTokens, reply.outputTokens),
      providerCalls: res.providerCalls,
    };
  }
}
