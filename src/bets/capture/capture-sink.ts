import { createHash } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { CaptureStore } from '../bets-store.js';
import type { CapturedExample, CaptureSettings } from '../capture-types.js';
import { canonicalJson } from '../text-checks.js';
import { emptyCounts, type RedactionCounts, redactValue } from './redaction.js';
import {
  type CapturedResponse,
  requestToCaseInput,
  responseToAnswer,
  type WireFormat,
} from './request-to-case.js';

/**
 * What the gateway calls for every answered request. It must cost the request path nearly
 * nothing: a map lookup, a random draw and a queue push. Parsing, redaction and the database
 * write happen later, in batches, off the request path. The gateway must not mutate `body`
 * after the call (it is read when the batch is written).
 */
export interface CaptureSink {
  capture(tenantId: string, body: unknown, response: CapturedResponse, format?: WireFormat): void;
  /** Whether the tenant has opted in (the gateway then keeps streamed text for capture). */
  wants(tenantId: string): boolean;
}

export interface CaptureSinkOptions {
  clock: Clock;
  /** Requests held for writing; beyond it new ones are dropped and counted (never blocking). */
  maxQueue?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  /** How often the opt-in settings are re-read (they are never read per request). */
  settingsRefreshMs?: number;
  random?: () => number;
  onError?: (err: unknown) => void;
}

export interface CaptureStats {
  queued: number;
  written: number;
  dropped: number;
  unreadable: number;
  redactions: RedactionCounts;
}

interface Pending {
  tenantId: string;
  workflow: string;
  body: unknown;
  response: CapturedResponse;
  format: WireFormat | undefined;
  at: number;
}

export function inputHash(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}

/** Samples per tenant settings into a bounded queue and writes redacted batches. */
export class BatchingCaptureSink implements CaptureSink {
  private settings = new Map<string, CaptureSettings>();
  private queue: Pending[] = [];
  private readonly stat: CaptureStats = {
    queued: 0,
    written: 0,
    dropped: 0,
    unreadable: 0,
    redactions: emptyCounts(),
  };
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly random: () => number;

  constructor(
    private readonly store: CaptureStore,
    private readonly opts: CaptureSinkOptions,
  ) {
    this.maxQueue = opts.maxQueue ?? 1000;
    this.batchSize = opts.batchSize ?? 100;
    this.random = opts.random ?? Math.random;
  }

  async start(): Promise<void> {
    await this.refreshSettings();
    this.flushTimer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 1000);
    this.refreshTimer = setInterval(
      () => void this.refreshSettings().catch((e: unknown) => this.opts.onError?.(e)),
      this.opts.settingsRefreshMs ?? 5000,
    );
    this.flushTimer.unref();
    this.refreshTimer.unref();
  }

  async refreshSettings(): Promise<void> {
    const list = await this.store.listCaptureSettings();
    this.settings = new Map(list.filter((s) => s.enabled && s.sampleRate > 0).map((s) => [s.tenantId, s]));
  }

  wants(tenantId: string): boolean {
    return this.settings.has(tenantId);
  }

  capture(tenantId: string, body: unknown, response: CapturedResponse, format?: WireFormat): void {
    const s = this.settings.get(tenantId);
    if (!s || this.random() >= s.sampleRate) return;
    if (this.queue.length >= this.maxQueue) {
      this.stat.dropped++;
      return;
    }
    this.queue.push({ tenantId, workflow: s.workflow, body, response, format, at: this.opts.clock.now() });
    this.stat.queued++;
    if (this.queue.length >= this.batchSize) setImmediate(() => void this.flush());
  }

  stats(): CaptureStats {
    return { ...this.stat, redactions: { ...this.stat.redactions } };
  }

  /** Writes what is queued; concurrent calls are serialized, so a batch is written once. */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .then(() => this.writeQueued())
      .catch((e: unknown) => this.opts.onError?.(e));
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      const rows: CapturedExample[] = [];
      for (const p of batch) {
        const input = requestToCaseInput(p.body, p.format);
        if (!input) {
          this.stat.unreadable++;
          continue;
        }
        const redacted = redactValue(input, this.stat.redactions);
        const at = new Date(p.at).toISOString();
        rows.push({
          id: newId('cap'),
          tenantId: p.tenantId,
          workflow: p.workflow,
          capturedAt: at,
          input: redacted,
          response: redactValue(responseToAnswer(p.response), this.stat.redactions),
          inputHash: inputHash(redacted),
          status: 'captured',
          proposal: null,
          note: null,
          reviewedBy: null,
          reviewedAt: null,
          caseId: null,
          updatedAt: at,
        });
      }
      await this.store.insertCaptures(rows);
      this.stat.written += rows.length;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.refreshTimer);
    await this.flush();
  }
}
