import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { SqlTelemetryEventStore } from '../../telemetry/sql-telemetry-store.js';
import type { TelemetryEvent } from '../../telemetry/telemetry-event.js';
import { type FeedbackRecord, SqlFeedbackStore } from '../feedback/feedback-store.js';
import { SqlPinPersistence } from '../pins/sql-pin-persistence.js';
import { type ShadowResult, SqlShadowResultSink } from '../shadow/shadow-sink.js';

const T0 = Date.UTC(2026, 2, 1, 12);

const event = (i: number, tenantId = 'acme'): TelemetryEvent => ({
  atMs: T0 + i,
  requestId: `req-${tenantId}-${i}`,
  tenantId,
  keyId: 'key_1',
  sessionId: `s${i % 3}`,
  channel: 'gpt-x',
  versionId: i % 2 ? 'gpt-x-2026-03' : 'gpt-x-2026-01',
  cohort: i % 2 ? 'canary' : 'stable',
  wire: 'openai',
  stream: i % 2 === 0,
  status: 200,
  errorType: null,
  fallback: i === 3 ? 'candidate_error' : null,
  sessionReset: false,
  toolNames: i % 2 ? ['get_weather'] : [],
  latencyMs: 12.5 + i,
  ttfbMs: 3.25,
  inputTokens: 40,
  outputTokens: 7,
  promptHash: 'abc',
  shadowed: false,
  taskId: i % 2 ? `task-${i}` : null,
  toolCallsChecked: i % 2,
  toolCallsInvalid: i === 5 ? 1 : 0,
  invalidKinds: i === 5 ? ['type'] : [],
  toolCallsCoerced: i === 7 ? 1 : 0,
  formatValid: i % 4 === 0 ? true : i % 4 === 2 ? false : null,
  policyAction: i === 5 ? 'fallback' : null,
});

/**
 * The gateway's SQL adapters (telemetry events, feedback, shadow pairs, persisted session pins)
 * behave the same on every database: what is written reads back equal, scoped by tenant.
 */
export function describeGatewayStoresContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`gateway SQL stores: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
    });
    afterEach(async () => cleanup());

    it('stores telemetry events in batches and reads them back per tenant, newest first', async () => {
      const store = new SqlTelemetryEventStore(db);
      await store.append([event(1), event(2), event(3), event(1, 'globex')]);
      await store.append([event(4)]);
      const got = await store.recent('acme', 10);
      expect(got.map((e) => e.requestId)).toEqual(['req-acme-4', 'req-acme-3', 'req-acme-2', 'req-acme-1']);
      expect(got[1]).toEqual(event(3));
      expect(await store.recent('globex', 10)).toEqual([event(1, 'globex')]);
    });

    it('stores feedback and lists it per tenant since a time', async () => {
      const store = new SqlFeedbackStore(db);
      const fb = (id: string, atMs: number, tenantId = 'acme'): FeedbackRecord => ({
        id,
        atMs,
        tenantId,
        keyId: 'key_1',
        sessionId: 's1',
        taskId: 'task-9',
        channel: 'gpt-x',
        versionId: 'gpt-x-2026-03',
        cohort: 'canary',
        outcome: 'failure',
        downstreamErrors: 2,
        errorKind: 'tool_executor',
        detail: 'KeyError: city',
        requestId: 'req-1',
      });
      await store.append(fb('f1', T0));
      await store.append(fb('f2', T0 + 1000));
      await store.append(fb('f3', T0 + 2000, 'globex'));
      const got = await store.listForTenant('acme', T0 + 500, 10);
      expect(got).toEqual([fb('f2', T0 + 1000)]);
    });

    it('stores shadow pairs with both sides intact', async () => {
      const sink = new SqlShadowResultSink(db);
      const pair: ShadowResult = {
        id: 'sh1',
        atMs: T0,
        tenantId: 'acme',
        sessionId: 's1',
        channel: 'gpt-x',
        requestId: 'req-1',
        promptHash: 'abc',
        wire: 'anthropic',
        stable: {
          versionId: 'gpt-x-2026-01',
          status: 200,
          error: null,
          text: null,
          toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          latencyMs: 120.5,
        },
        candidate: {
          versionId: 'gpt-x-2026-03',
          status: null,
          error: 'timeout',
          text: null,
          toolCalls: [],
          latencyMs: null,
        },
      };
      await sink.append([pair]);
      expect(await sink.listForTenant('acme', 10)).toEqual([pair]);
      expect(await sink.listForTenant('globex', 10)).toEqual([]);
    });

    it('persists session pins and cut markers, loads live ones and prunes expired ones', async () => {
      const p = new SqlPinPersistence(db);
      await p.save([
        {
          tenantId: 'acme',
          sessionKey: 'gpt-x:s1',
          versionId: 'v1',
          createdAtMs: T0,
          expiresAtMs: T0 + 60_000,
        },
        {
          tenantId: 'acme',
          sessionKey: 'gpt-x:s2',
          versionId: 'v2',
          createdAtMs: T0 + 1,
          expiresAtMs: T0 + 10,
        },
      ]);
      // Saving the same session again keeps one row (pins are upserted).
      await p.save([
        {
          tenantId: 'acme',
          sessionKey: 'gpt-x:s1',
          versionId: 'v1',
          createdAtMs: T0,
          expiresAtMs: T0 + 90_000,
        },
      ]);
      await p.saveCut({ tenantId: 'acme', versionId: 'v2', cutAtMs: T0 + 5 });
      const loaded = await p.load(T0 + 100, 100);
      expect(loaded.pins.map((x) => [x.sessionKey, x.expiresAtMs])).toEqual([['gpt-x:s1', T0 + 90_000]]);
      expect(loaded.cuts).toEqual([{ tenantId: 'acme', versionId: 'v2', cutAtMs: T0 + 5 }]);
      await p.prune(T0 + 100, T0 + 6);
      const after = await p.load(0, 100);
      expect(after.pins.map((x) => x.sessionKey)).toEqual(['gpt-x:s1']);
      expect(after.cuts).toEqual([]);
    });
  });
}
