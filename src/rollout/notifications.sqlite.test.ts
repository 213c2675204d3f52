import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { memorySqlite } from '../test-support/registry-fixtures.js';
import {
  endpointId,
  type Notification,
  resolveWebhooks,
  SIGNATURE_HEADER,
  SqlNotificationOutbox,
  TIMESTAMP_HEADER,
  WebhookDispatcher,
} from './notifications.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let db: SqlDatabase;
let server: Server;
let base: string;
const received: Received[] = [];
/** Status per path, taken in order; 200 once a path's list is used up. */
const script = new Map<string, number[]>();

beforeEach(async () => {
  db = await memorySqlite();
  received.length = 0;
  script.clear();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.statusCode = script.get(req.url ?? '')?.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.close();
});

const note: Notification = {
  id: 'ntf_1',
  event: 'rolled_back',
  upgradeId: 'upg_1',
  rolloutId: 'ro_1',
  tenantId: 'acme',
  channel: 'gpt-x',
  detail: 'tool-call failure rate 25.00% vs 0.50%',
  incidentId: 'inc_1',
  atMs: Date.UTC(2026, 2, 1),
};

function verify(r: Received, secret: string): boolean {
  const ts = String(r.headers[TIMESTAMP_HEADER]);
  const expected = `v1=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
  return r.headers[SIGNATURE_HEADER] === expected;
}

describe('webhook notifications', () => {
  it('signs each delivery, formats Slack payloads, and retries failures with exponential backoff', async () => {
    const clock = new ManualClock(note.atMs);
    const endpoints = resolveWebhooks(
      [
        { url: `${base}/slack`, secret: 'env:SLACK_SECRET', format: 'slack' },
        { url: `${base}/json`, secret: 'env:JSON_SECRET', format: 'json' },
      ],
      { SLACK_SECRET: 's3cret-slack', JSON_SECRET: 's3cret-json' },
    );
    const outbox = new SqlNotificationOutbox(db);
    const dispatcher = new WebhookDispatcher(
      { outbox, endpoints, clock, random: () => 1 },
      { baseDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 5 },
    );
    script.set('/slack', [500, 503]);
    await outbox.enqueue(note, dispatcher.endpointIds(), clock.now());

    expect(await dispatcher.drain()).toEqual({ delivered: 1, retried: 1, failed: 0 });
    // Not due yet: the retry waits for its backoff (1 s after the first failure).
    clock.advance(999);
    expect(await dispatcher.drain()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    clock.advance(1);
    expect(await dispatcher.drain()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    // The second failure doubles the wait.
    clock.advance(1_999);
    expect(await dispatcher.drain()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    clock.advance(1);
    expect(await dispatcher.drain()).toEqual({ delivered: 1, retried: 0, failed: 0 });

    const slack = received.filter((r) => r.path === '/slack');
    const json = received.filter((r) => r.path === '/json');
    expect(slack).toHaveLength(3);
    expect(json).toHaveLength(1);
    for (const r of slack) expect(verify(r, 's3cret-slack')).toBe(true);
    expect(verify(json[0] as Received, 's3cret-json')).toBe(true);
    expect(verify(json[0] as Received, 's3cret-slack')).toBe(false);
    const body = JSON.parse((slack[2] as Received).body) as { text: string; blocks: { type: string }[] };
    expect(body.text).toBe('Rolled back: acme on gpt-x: tool-call failure rate 25.00% vs 0.50%');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(JSON.parse((json[0] as Received).body)).toMatchObject({
      id: 'ntf_1',
      event: 'rolled_back',
      incidentId: 'inc_1',
    });
    expect(
      (await outbox.list({ state: 'delivered', limit: 10 })).map((d) => [d.endpointId, d.attempts]).sort(),
    ).toEqual(
      [
        [endpointId(endpoints[0] as (typeof endpoints)[0]), 3],
        [endpointId(endpoints[1] as (typeof endpoints)[0]), 1],
      ].sort(),
    );
  });

  it('gives a delivery up after its last attempt, and never sends it again', async () => {
    const clock = new ManualClock(note.atMs);
    const endpoints = resolveWebhooks([{ url: `${base}/down`, secret: 'env:S', format: 'json' }], { S: 'x' });
    const outbox = new SqlNotificationOutbox(db);
    const dispatcher = new WebhookDispatcher(
      { outbox, endpoints, clock, random: () => 1 },
      { baseDelayMs: 10, maxAttempts: 3 },
    );
    script.set('/down', [500, 500, 500, 500]);
    await outbox.enqueue(note, dispatcher.endpointIds(), clock.now());
    for (let i = 0; i < 6; i++) {
      await dispatcher.drain();
      clock.advance(1_000);
    }
    expect(received).toHaveLength(3);
    const [failed] = await outbox.list({ state: 'failed', limit: 1 });
    expect(failed?.lastError).toBe('HTTP 500 (after 3 attempts)');
  });

  it('refuses a webhook secret that is not an env reference or not set', () => {
    expect(() => resolveWebhooks([{ url: 'http://x', secret: 'plain', format: 'json' }], {})).toThrow(
      /env:NAME/,
    );
    expect(() => resolveWebhooks([{ url: 'http://x', secret: 'env:MISSING', format: 'json' }], {})).toThrow(
      /MISSING/,
    );
  });
});
