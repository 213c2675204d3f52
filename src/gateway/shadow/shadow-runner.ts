import { performance } from 'node:perf_hooks';
import { AbortHandle } from '../../providers/abort-handle.js';
import type { ModelVersion } from '../../registry/types.js';
import { newId } from '../../shared/ids.js';
import { BatchingSink, type SinkStats } from '../../telemetry/batching-sink.js';
import type { GatewayConfig } from '../gateway-config.js';
import type { Attempt, UpstreamCaller } from '../upstream-call.js';
import type { RequestView, WireFormat } from '../wire/wire-format.js';
import type { ShadowResult, ShadowResultSink, ShadowSide } from './shadow-sink.js';
import { BoundedWorkQueue, type WorkQueueStats } from './work-queue.js';

/** A request the client got from stable, to be replayed against the candidate. */
export interface ShadowJob {
  atMs: number;
  tenantId: string;
  sessionId: string;
  channel: string;
  requestId: string;
  promptHash: string | null;
  wire: WireFormat;
  view: RequestView;
  passHeaders: Record<string, string> | undefined;
  extraHeaders: Record<string, string> | undefined;
  candidate: ModelVersion;
  stable: ShadowSide;
}

export interface ShadowStats {
  queue: WorkQueueStats;
  sink: SinkStats;
}

function sideOf(version: ModelVersion, a: Attempt, latencyMs: number): ShadowSide {
  const base = { versionId: version.id, latencyMs, text: null, toolCalls: [] };
  switch (a.kind) {
    case 'answer':
      return { ...base, status: a.status, error: null, text: a.summary.text, toolCalls: a.summary.toolCalls };
    case 'upstream_status':
      return { ...base, status: a.status, error: `provider answered ${a.status}` };
    case 'failed':
      return { ...base, status: null, error: a.error.message };
    case 'aborted':
      return { ...base, status: null, error: 'timed out' };
    default:
      return { ...base, status: null, error: 'unexpected stream' };
  }
}

/**
 * Shadow mode: after the client has its answer from stable, the same request (never streamed)
 * goes to the candidate from a bounded queue with a few workers, off the response path. Each
 * pair (stable's answer, candidate's answer) is written in batches for later comparison.
 */
export class ShadowRunner {
  private readonly queue: BoundedWorkQueue<ShadowJob>;
  private readonly sink: BatchingSink<ShadowResult>;

  constructor(
    private readonly caller: UpstreamCaller,
    store: ShadowResultSink,
    private readonly cfg: GatewayConfig['shadow'],
    onError?: (err: unknown) => void,
    /** Shown every finished pair (drift comparison, judge sampling); must not block. */
    private readonly onPair: (pair: ShadowResult) => void = () => {},
  ) {
    this.queue = new BoundedWorkQueue((job) => this.run(job), {
      capacity: cfg.queueSize,
      concurrency: cfg.concurrency,
    });
    this.sink = new BatchingSink((batch) => store.append(batch), cfg, onError);
  }

  /** Queues a shadow call; false when the queue is full (the job is dropped and counted). */
  offer(job: ShadowJob): boolean {
    return this.queue.offer(job);
  }

  stats(): ShadowStats {
    return { queue: this.queue.stats(), sink: this.sink.stats() };
  }

  /** Waits for queued shadow calls and writes their results (tests; shutdown). */
  async settle(): Promise<void> {
    await this.queue.whenIdle();
    await this.sink.flush();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.sink.close();
  }

  private async run(job: ShadowJob): Promise<void> {
    const t0 = performance.now();
    const deadline = new AbortHandle();
    const timer = setTimeout(() => deadline.abort(), this.cfg.timeoutMs);
    const attempt = await this.caller
      .json({
        wire: job.wire,
        view: job.view,
        version: job.candidate,
        passHeaders: job.passHeaders,
        extraHeaders: job.extraHeaders,
        signal: deadline,
      })
      .finally(() => clearTimeout(timer));
    const pair: ShadowResult = {
      id: newId('shd'),
      atMs: job.atMs,
      tenantId: job.tenantId,
      sessionId: job.sessionId,
      channel: job.channel,
      requestId: job.requestId,
      promptHash: job.promptHash,
      wire: job.wire.kind,
      stable: job.stable,
      candidate: sideOf(job.candidate, attempt, performance.now() - t0),
    };
    this.sink.push(pair);
    this.onPair(pair);
  }
}
