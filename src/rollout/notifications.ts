import { createHash, createHmac } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';

/** Something a person should hear about: a rollout blocked, rolled back, waiting for approval... */
export interface Notification {
  /** Stable per (rollout, step): enqueueing the same notification twice delivers it once. */
  id: string;
  event: string;
  upgradeId: string;
  rolloutId: string | null;
  tenantId: string | null;
  channel: string;
  detail: string;
  /** The incident report's id, when there is one. */
  incidentId: string | null;
  atMs: number;
}

export type WebhookFormat = 'json' | 'slack';

/** A configured endpoint, with its secret already resolved from the environment. */
export interface WebhookEndpoint {
  url: string;
  secret: string;
  format: WebhookFormat;
}

/** The endpoint's stable id in the outbox: a hash of its URL and format (never of the secret). */
export function endpointId(e: Pick<WebhookEndpoint, 'url' | 'format'>): string {
  return createHash('sha256').update(`${e.format} ${e.url}`).digest('hex').slice(0, 16);
}

/** Resolves `env:NAME` secret references; a missing variable stops start-up with its name. */
export function resolveWebhooks(
  configured: readonly { url: string; secret: string; format: WebhookFormat }[],
  env: NodeJS.ProcessEnv = process.env,
): WebhookEndpoint[] {
  return configured.map((w, i) => {
    const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(w.secret);
    if (!m?.[1]) throw new Error(`controller.webhooks[${i}].secret must be an env:NAME reference`);
    const value = env[m[1]];
    if (!value) throw new Error(`controller.webhooks[${i}].secret: environment variable ${m[1]} is not set`);
    return { url: w.url, secret: value, format: w.format };
  });
}

const TITLES: Record<string, string> = {
  approval_needed: 'Approval needed',
  blocked: 'Blocked by BETS',
  rollback_started: 'Rollback started',
  rolled_back: 'Rolled back',
  paused: 'Paused on a regression',
  escalated: 'Escalated',
  complete: 'Upgrade complete for tenant',
  upgrade_complete: 'Upgrade complete',
};

export function notificationTitle(n: Notification): string {
  return `${TITLES[n.event] ?? n.event}: ${n.tenantId ?? 'fleet'} on ${n.channel}`;
}

/** The request body for an endpoint: the notification as JSON, or Slack's `{text, blocks}`. */
export function webhookBody(n: Notification, format: WebhookFormat): string {
  if (format === 'json') {
    return JSON.stringify({
      id: n.id,
      event: n.event,
      upgradeId: n.upgradeId,
      rolloutId: n.rolloutId,
      tenantId: n.tenantId,
      channel: n.channel,
      detail: n.detail,
      incidentId: n.incidentId,
      at: new Date(n.atMs).toISOString(),
    });
  }
  const title = notificationTitle(n);
  const fields = [
    `*Upgrade:* ${n.upgradeId}`,
    ...(n.tenantId ? [`*Tenant:* ${n.tenantId}`] : []),
    ...(n.incidentId ? [`*Incident:* ${n.incidentId}`] : []),
  ];
  return JSON.stringify({
    text: `${title}: ${n.detail}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: n.detail || title } },
      { type: 'context', elements: fields.map((text) => ({ type: 'mrkdwn', text })) },
    ],
  });
}

export const SIGNATURE_HEADER = 'x-switchyard-signature';
export const TIMESTAMP_HEADER = 'x-switchyard-timestamp';

/**
 * `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`, keyed by the endpoint's secret. The receiver
 * recomputes it over the raw body and rejects a timestamp older than a few minutes (replay).
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  notificationId: string;
  endpointId: string;
  event: string;
  notification: Notification;
  state: DeliveryState;
  attempts: number;
  nextAttemptMs: number;
  lastError: string | null;
  createdAtMs: number;
  deliveredAtMs: number | null;
}

interface DeliveryRow {
  id: string;
  notification_id: string;
  endpoint_id: string;
  event: string;
  notification: string;
  state: DeliveryState;
  attempts: number | string;
  next_attempt_ms: number | string;
  last_error: string | null;
  created_at_ms: number | string;
  delivered_at_ms: number | string | null;
}

const fromRow = (r: DeliveryRow): Delivery => ({
  id: r.id,
  notificationId: r.notification_id,
  endpointId: r.endpoint_id,
  event: r.event,
  notification: JSON.parse(r.notification) as Notification,
  state: r.state,
  attempts: Number(r.attempts),
  nextAttemptMs: Number(r.next_attempt_ms),
  lastError: r.last_error,
  createdAtMs: Number(r.created_at_ms),
  deliveredAtMs: r.delivered_at_ms === null ? null : Number(r.delivered_at_ms),
});

/**
 * The notification outbox: one row per (notification, endpoint). The controller only inserts
 * (idempotent by id); the webhook worker claims due rows with a guarded update, so several
 * processes may drain it and a row is sent by one at a time.
 */
export class SqlNotificationOutbox {
  constructor(private readonly db: SqlDatabase) {}

  async enqueue(n: Notification, endpointIds: readonly string[], nowMs: number): Promise<number> {
    let added = 0;
    for (const e of endpointIds) {
      const res = await this.db.run(
        `INSERT INTO notification_deliveries (id, notification_id, endpoint_id, event, notification, state, attempts,
           next_attempt_ms, last_error, created_at_ms, delivered_at_ms)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, NULL) ON CONFLICT (id) DO NOTHING`,
        [`${n.id}|${e}`, n.id, e, n.event, JSON.stringify(n), nowMs, nowMs],
      );
      added += res.changes;
    }
    return added;
  }

  async due(nowMs: number, limit: number): Promise<Delivery[]> {
    const rows = await this.db.all<DeliveryRow>(
      `SELECT * FROM notification_deliveries WHERE state = 'pending' AND next_attempt_ms <= ?
       ORDER BY next_attempt_ms, id LIMIT ?`,
      [nowMs, limit],
    );
    return rows.map(fromRow);
  }

  /** Takes a due row for one attempt: true for exactly one claimer. */
  async claim(d: Delivery, untilMs: number): Promise<boolean> {
    const res = await this.db.run(
      `UPDATE notification_deliveries SET next_attempt_ms = ?, attempts = attempts + 1
       WHERE id = ? AND state = 'pending' AND next_attempt_ms = ? AND attempts = ?`,
      [untilMs, d.id, d.nextAttemptMs, d.attempts],
    );
    return res.changes === 1;
  }

  async delivered(id: string, nowMs: number): Promise<void> {
    await this.db.run(
      `UPDATE notification_deliveries SET state = 'delivered', delivered_at_ms = ?, last_error = NULL WHERE id = ?`,
      [nowMs, id],
    );
  }

  async retryAt(id: string, nextMs: number, error: string): Promise<void> {
    await this.db.run('UPDATE notification_deliveries SET next_attempt_ms = ?, last_error = ? WHERE id = ?', [
      nextMs,
      error.slice(0, 1000),
      id,
    ]);
  }

  async failed(id: string, error: string): Promise<void> {
    await this.db.run(`UPDATE notification_deliveries SET state = 'failed', last_error = ? WHERE id = ?`, [
      error.slice(0, 1000),
      id,
    ]);
  }

  async list(filter: { state?: DeliveryState; limit: number }): Promise<Delivery[]> {
    const rows = await this.db.all<DeliveryRow>(
      `SELECT * FROM notification_deliveries ${filter.state ? 'WHERE state = ?' : ''}
       ORDER BY created_at_ms DESC, id LIMIT ?`,
      filter.state ? [filter.state, filter.limit] : [filter.limit],
    );
    return rows.map(fromRow);
  }
}

export interface WebhookDispatcherOptions {
  /** Attempts per delivery before it is given up (state failed). */
  maxAttempts: number;
  /** First retry delay; doubled per attempt, up to maxDelayMs, times a jitter factor in [0.5, 1]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One request's timeout; also how long a claim holds a row. */
  timeoutMs: number;
  /** Deliveries handled per drain. */
  batch: number;
  intervalMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookDispatcherOptions = {
  maxAttempts: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 10 * 60_000,
  timeoutMs: 5_000,
  batch: 20,
  intervalMs: 2_000,
};

export interface DrainResult {
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * Drains the outbox to the configured endpoints: signed POSTs, retried with exponential backoff
 * and jitter, given up after `maxAttempts`. It runs on its own timer, so a slow or dead endpoint
 * delays only its own deliveries, never the controller.
 */
export class WebhookDispatcher {
  private readonly opts: WebhookDispatcherOptions;
  private readonly byId: Map<string, WebhookEndpoint>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<DrainResult> | null = null;

  constructor(
    private readonly deps: {
      outbox: SqlNotificationOutbox;
      endpoints: readonly WebhookEndpoint[];
      clock: Clock;
      /** Injectable for tests; defaults to Math.random. */
      random?: () => number;
      onError?: (err: unknown) => void;
    },
    opts: Partial<WebhookDispatcherOptions> = {},
  ) {
    this.opts = { ...DEFAULT_WEBHOOK_OPTIONS, ...opts };
    this.byId = new Map(deps.endpoints.map((e) => [endpointId(e), e]));
  }

  endpointIds(): string[] {
    return [...this.byId.keys()];
  }

  /** Backoff before attempt `attempt + 1`, after `attempt` failed attempts. */
  delayAfter(attempt: number): number {
    const raw = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(raw * (0.5 + 0.5 * (this.deps.random ?? Math.random)()));
  }

  /** One drain of the due deliveries (one at a time per call; concurrent calls share the run). */
  drain(): Promise<DrainResult> {
    if (!this.running) {
      this.running = this.drainOnce().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async drainOnce(): Promise<DrainResult> {
    const out: DrainResult = { delivered: 0, retried: 0, failed: 0 };
    const now = this.deps.clock.now();
    for (const d of await this.deps.outbox.due(now, this.opts.batch)) {
      const endpoint = this.byId.get(d.endpointId);
      if (!endpoint) {
        await this.deps.outbox.failed(d.id, 'endpoint no longer configured');
        out.failed++;
        continue;
      }
      if (!(await this.deps.outbox.claim(d, now + this.opts.timeoutMs * 2))) continue;
      const attempt = d.attempts + 1;
      const error = await this.send(endpoint, d.notification);
      const at = this.deps.clock.now();
      if (error === null) {
        await this.deps.outbox.delivered(d.id, at);
        out.delivered++;
      } else if (attempt >= this.opts.maxAttempts) {
        await this.deps.outbox.failed(d.id, `${error} (after ${attempt} attempts)`);
        out.failed++;
      } else {
        await this.deps.outbox.retryAt(d.id, at + this.delayAfter(attempt), error);
        out.retried++;
      }
    }
    return out;
  }

  /** null when the endpoint accepted it (2xx), else why not. */
  private async send(endpoint: WebhookEndpoint, n: Notification): Promise<string | null> {
    const body = webhookBody(n, endpoint.format);
    const ts = Math.floor(this.deps.clock.now() / 1000);
    try {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'switchyard-webhooks/1',
          'x-switchyard-event': n.event,
          'x-switchyard-delivery': n.id,
          [TIMESTAMP_HEADER]: String(ts),
          [SIGNATURE_HEADER]: signWebhook(endpoint.secret, ts, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (e) {
      return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.drain().catch((e) => this.deps.onError?.(e));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }
}
