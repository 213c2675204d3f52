import { parseJudgeAnswer } from '../../bets/judge.js';
import { AbortHandle } from '../../providers/abort-handle.js';
import type { ProviderClient } from '../../providers/provider-types.js';
import { readBody, tryParseJson } from '../../providers/read-body.js';
import type { RoutingSnapshot } from '../../registry/routing-snapshot.js';
import type { ModelVersion } from '../../registry/types.js';
import { buildJudgeMessages } from '../../simulator/judge.js';
import type { JudgeScoreSink } from '../../telemetry/judge-score.js';
import type { GatewayConfig } from '../gateway-config.js';
import { anthropicWire } from '../wire/anthropic-wire.js';
import { openAiWire } from '../wire/openai-wire.js';
import type { ParsedToolCall } from '../wire/wire-format.js';
import type { ShadowResult, ShadowSide } from './shadow-sink.js';
import { BoundedWorkQueue, type WorkQueueStats } from './work-queue.js';

/** Judging of shadow pairs: where scores go and, optionally, which judge each tenant pins. */
export interface ShadowJudgeDeps {
  sink: JudgeScoreSink;
  /** The tenant's pinned judge version id; without it (or when it says null) `judge.versionId` applies. */
  judgeVersionOf?: (tenantId: string, channel: string) => string | null;
}

const RUBRIC =
  'Score how equivalent the candidate answer is to the golden answer for the same request: the same tool calls with the same arguments, or text with the same meaning.';
const MAX_TOKENS = 256;

/** The answer as the judge reads it: text, and tool calls with their arguments as JSON values. */
function answerOf(side: ShadowSide): unknown {
  const calls = side.toolCalls.map((c: ParsedToolCall) => ({
    name: c.name,
    arguments: tryParseJson(c.arguments) ?? c.arguments,
  }));
  return calls.length > 0 ? { text: side.text, toolCalls: calls } : (side.text ?? '');
}

function judgeBody(judge: ModelVersion, system: string, user: string): string {
  return judge.providerKind === 'anthropic'
    ? JSON.stringify({
        model: judge.upstreamModel,
        max_tokens: MAX_TOKENS,
        system,
        messages: [{ role: 'user', content: user }],
      })
    : JSON.stringify({
        model: judge.upstreamModel,
        max_tokens: MAX_TOKENS,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
      });
}

/**
 * Asks the pinned judge model how similar the candidate's answer is to stable's, for a sampled
 * share of shadow pairs, from a bounded queue with a few workers: never on the response path,
 * and a full queue drops (counted) rather than grows. A judge never scores its own channel's
 * upgrade (its judgement would move with it), as in BETS.
 */
export class ShadowJudge {
  private readonly queue: BoundedWorkQueue<{ pair: ShadowResult; judge: ModelVersion }>;
  private failures = 0;

  constructor(
    private readonly provider: ProviderClient,
    private readonly snapshots: { current(): RoutingSnapshot },
    private readonly cfg: GatewayConfig['judge'],
    private readonly deps: ShadowJudgeDeps,
    private readonly random: () => number,
    private readonly maxResponseBytes: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.queue = new BoundedWorkQueue((job) => this.run(job.pair, job.judge), {
      capacity: cfg.queueSize,
      concurrency: cfg.concurrency,
    });
  }

  /** Samples a finished shadow pair; only pairs where both versions answered are worth judging. */
  offer(pair: ShadowResult): void {
    if (pair.stable.error !== null || pair.candidate.error !== null || pair.candidate.status !== 200) return;
    if (this.cfg.sampleRate <= 0 || this.random() >= this.cfg.sampleRate) return;
    const id = this.deps.judgeVersionOf?.(pair.tenantId, pair.channel) ?? this.cfg.versionId;
    const judge = id === null ? undefined : this.snapshots.current().models.get(id);
    if (!judge || judge.channel === pair.channel) return;
    this.queue.offer({ pair, judge });
  }

  stats(): WorkQueueStats & { judgeFailures: number } {
    return { ...this.queue.stats(), judgeFailures: this.failures };
  }

  settle(): Promise<void> {
    return this.queue.whenIdle();
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private async run(pair: ShadowResult, judge: ModelVersion): Promise<void> {
    const { system, user } = buildJudgeMessages({
      rubric: RUBRIC,
      golden: answerOf(pair.stable),
      candidate: answerOf(pair.candidate),
    });
    const deadline = new AbortHandle();
    const timer = setTimeout(() => deadline.abort(), this.cfg.timeoutMs);
    try {
      const up = await this.provider.send({
        version: judge,
        body: judgeBody(judge, system, user),
        stream: false,
        signal: deadline,
      });
      const body = await readBody(up.body, this.maxResponseBytes, deadline);
      if (up.status >= 300) throw new Error(`the judge ${judge.id} answered ${up.status}`);
      const wire = judge.providerKind === 'anthropic' ? anthropicWire : openAiWire;
      const verdict = parseJudgeAnswer(wire.summarize(tryParseJson(body))?.text ?? null);
      if (typeof verdict === 'string') throw new Error(verdict);
      this.deps.sink.record({
        atMs: pair.atMs,
        tenantId: pair.tenantId,
        channel: pair.channel,
        candidateVersionId: pair.candidate.versionId,
        stableVersionId: pair.stable.versionId,
        source: 'shadow',
        requestId: pair.requestId,
        score: verdict.score,
      });
    } catch (err) {
      this.failures++;
      this.onError(err);
    } finally {
      clearTimeout(timer);
    }
  }
}
