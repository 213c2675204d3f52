import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { event } from '../rollups/test-support/rollup-fixtures.js';
import type { ObservabilityConfig } from './observability-config.js';
import { createOtlpExport, type OtlpExport } from './otlp-export.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: OtlpAttribute[];
}
interface OtlpLogRecord {
  eventName?: string;
  attributes: OtlpAttribute[];
}

/** A stand-in OTLP/HTTP collector: records every request and answers with `status`. */
let server: Server;
let received: Received[];
let status: number;
let endpoint: string;
let exporter: OtlpExport | null = null;

beforeEach(async () => {
  received = [];
  status = 200;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterEach(async () => {
  await exporter?.close();
  exporter = null;
  server.close();
  await once(server, 'close');
});

const otlp = (over: Partial<ObservabilityConfig['otlp']> = {}): ObservabilityConfig['otlp'] => ({
  endpoint,
  headers: { 'x-collector-key': 'env:TEST_COLLECTOR_KEY' },
  serviceName: 'switchyard-otlp-test',
  sampleRatio: 1,
  exportTimeoutMs: 5000,
  ...over,
});

const attr = (attrs: OtlpAttribute[], key: string) => {
  const v = attrs.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue;
};

describe('OTLP/HTTP export to a collector', () => {
  it('sends the request and tool spans to /v1/traces with the configured headers', async () => {
    exporter = createOtlpExport(otlp(), {
      env: { TEST_COLLECTOR_KEY: 'collector-secret' },
      versionLookup: (id) =>
        id === 'v1' ? { upstreamModel: 'gpt-5-2026-01-15', providerKind: 'openai-compatible' } : undefined,
    });
    expect(exporter).not.toBeNull();
    exporter!.spans.observe([
      event({
        requestId: 'req-otlp',
        tenantId: 'acme',
        channel: 'gpt-5',
        inputTokens: 12,
        toolNames: ['lookup'],
      }),
    ]);
    await exporter!.flush();

    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces).toHaveLength(1);
    const req = traces[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-collector-key']).toBe('collector-secret');
    const body = JSON.parse(req.body) as {
      resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    expect(attr(body.resourceSpans[0]!.resource.attributes, 'service.name')).toBe('switchyard-otlp-test');
    const spans = body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const chat = spans.find((s) => s.name === 'chat gpt-5');
    const tool = spans.find((s) => s.name === 'execute_tool lookup');
    expect(chat).toBeDefined();
    expect(tool).toBeDefined();
    expect(attr(chat!.attributes, 'gen_ai.request.model')).toBe('gpt-5');
    expect(attr(chat!.attributes, 'gen_ai.response.model')).toBe('gpt-5-2026-01-15');
    expect(attr(chat!.attributes, 'gen_ai.provider.name')).toBe('openai');
    expect(attr(chat!.attributes, 'switchyard.tenant')).toBe('acme');
    expect(Number(attr(chat!.attributes, 'gen_ai.usage.input_tokens'))).toBe(12);
    expect(attr(tool!.attributes, 'gen_ai.tool.name')).toBe('lookup');
    expect(tool!.parentSpanId).toBe(chat!.spanId);
    expect(tool!.traceId).toBe(chat!.traceId);
  });

  it('sends verdicts to /v1/logs as gen_ai.evaluation.result events', async () => {
    exporter = createOtlpExport(otlp({ headers: {} }));
    exporter!.recordVerdict({
      tenantId: 'acme',
      channel: 'gpt-5',
      candidateVersionId: 'v2',
      upgradeId: '',
      outcome: 'pass',
      kinds: [{ kind: 'tool_call', passed: 50, total: 50, rate: 1, threshold: 0.98, ok: true }],
      runIds: ['run-1'],
      reasons: [],
      decidedAt: '2026-03-01T10:00:00.000Z',
    });
    await exporter!.flush();

    const logs = received.filter((r) => r.path === '/v1/logs');
    expect(logs).toHaveLength(1);
    const body = JSON.parse(logs[0]!.body) as {
      resourceLogs: { scopeLogs: { logRecords: OtlpLogRecord[] }[] }[];
    };
    const records = body.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords));
    expect(records.map((r) => r.eventName)).toEqual(['gen_ai.evaluation.result', 'gen_ai.evaluation.result']);
    expect(records.map((r) => attr(r.attributes, 'gen_ai.evaluation.name'))).toEqual([
      'switchyard.bets.gate',
      'switchyard.bets.tool_call',
    ]);
    expect(attr(records[1]!.attributes, 'gen_ai.evaluation.score.value')).toBe(1);
    expect(received.filter((r) => r.path === '/v1/traces')).toEqual([]);
  });

  it('reports an export the collector refuses', async () => {
    status = 400;
    const errors: string[] = [];
    exporter = createOtlpExport(otlp({ headers: {} }), { onError: (_err, signal) => errors.push(signal) });
    exporter!.spans.observe([event()]);
    await exporter!.flush();
    expect(received.map((r) => r.path)).toEqual(['/v1/traces']);
    expect(errors).toEqual(['traces']);
  });
});
