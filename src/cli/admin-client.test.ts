import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, exitCodeForStatus, formatApiError, resolveToken, resolveUrl } from './admin-client.js';
import { CliError, EXIT } from './exit-codes.js';

describe('exitCodeForStatus', () => {
  it('maps HTTP statuses to the documented exit codes', () => {
    expect([404, 409, 400, 413, 415, 401, 403, 500, 503, 418].map(exitCodeForStatus)).toEqual([
      EXIT.notFound,
      EXIT.conflict,
      EXIT.invalid,
      EXIT.invalid,
      EXIT.invalid,
      EXIT.auth,
      EXIT.auth,
      EXIT.unavailable,
      EXIT.unavailable,
      EXIT.failure,
    ]);
  });
});

describe('formatApiError', () => {
  it('prints the message, each detail as path: message, and the hint', () => {
    const text = formatApiError(400, 'Bad Request', {
      error: {
        code: 'invalid_input',
        message: 'the request body is invalid',
        details: [{ path: '/body/name', message: 'must be string' }],
        hint: 'Correct the fields.',
        requestId: 'r1',
      },
    });
    expect(text.split('\n')).toEqual([
      'the request body is invalid (invalid_input)',
      '  /body/name: must be string',
      'hint: Correct the fields.',
      'request id: r1',
    ]);
  });

  it('falls back to the status when the body is not the error envelope', () => {
    expect(formatApiError(502, 'Bad Gateway', undefined)).toBe('the server answered HTTP 502 Bad Gateway');
  });
});

describe('connection settings', () => {
  it('takes the token from the option, then the environment, then the embedded token file', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    expect(resolveToken({}, {}, cwd)).toBeUndefined();
    mkdirSync(join(cwd, '.switchyard'));
    writeFileSync(join(cwd, '.switchyard', 'admin-token'), 'sya-from-file\n');
    expect(resolveToken({}, {}, cwd)).toBe('sya-from-file');
    expect(resolveToken({}, { SWITCHYARD_TOKEN: 'sya-env' }, cwd)).toBe('sya-env');
    expect(resolveToken({ token: 'sya-flag' }, { SWITCHYARD_TOKEN: 'sya-env' }, cwd)).toBe('sya-flag');
  });

  it('takes the URL from the option, then the environment, and refuses a non-URL as a usage error', () => {
    expect(resolveUrl({}, {})).toBe('http://127.0.0.1:8080');
    expect(resolveUrl({}, { SWITCHYARD_URL: 'http://gw:9000/' })).toBe('http://gw:9000');
    expect(resolveUrl({ url: 'https://x.test/proxy/' }, { SWITCHYARD_URL: 'http://gw:9000' })).toBe(
      'https://x.test/proxy',
    );
    expect(() => resolveUrl({ url: 'localhost:8080' }, {})).toThrow(CliError);
    try {
      resolveUrl({ url: 'not a url' }, {});
    } catch (e) {
      expect((e as CliError).exitCode).toBe(EXIT.usage);
    }
  });
});

describe('AdminClient requests', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the token, If-Match as a quoted version, the query, and only the options that are set', async () => {
    const api = new AdminClient(`${base}/prefix`, 'sya-t');
    await api.patch('/tenants/a%2Fb', { name: 'N', rolloutGroup: undefined }, 3);
    await api.get('/audit', { tenantId: 'acme', limit: undefined });
    await api.delete('/tenants/x');
    const [patch, get, del] = seen;
    expect(patch?.method).toBe('PATCH');
    expect(patch?.url).toBe('/prefix/admin/v1/tenants/a%2Fb');
    expect(patch?.headers?.authorization).toBe('Bearer sya-t');
    expect(patch?.headers?.['if-match']).toBe('"3"');
    expect(JSON.parse(patch?.body ?? '')).toEqual({ name: 'N' });
    expect(get?.url).toBe('/prefix/admin/v1/audit?tenantId=acme');
    // No body, so no JSON content type (the server refuses an empty JSON body).
    expect(del?.headers?.['content-type']).toBeUndefined();
    expect(del?.headers?.['if-match']).toBeUndefined();
  });

  it('refuses to send a request without a token (auth exit)', async () => {
    const api = new AdminClient(base, undefined);
    await expect(api.get('/status')).rejects.toMatchObject({ exitCode: EXIT.auth });
  });
});
