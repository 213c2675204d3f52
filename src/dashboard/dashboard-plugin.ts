import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../admin/principal.js';
import { requirePermission, scopeToTenant } from '../admin/principal.js';
import { ERRORS, principal, TenantParam } from '../admin/route-helpers.js';
import { notFound } from '../shared/errors.js';
import { type FleetSources, FleetViews } from './fleet-view.js';
import { LiveRevisions } from './live-revisions.js';

export interface DashboardDeps extends FleetSources {
  /** The admin API's token authentication: the dashboard accepts the same tokens and roles. */
  auth: { authenticate(req: FastifyRequest): Promise<Principal> };
  /** How often the live stream checks for changes while someone watches (default 2 s). */
  liveIntervalMs?: number;
  /** Keep-alive comments on idle streams, so proxies do not cut them (default 15 s). */
  keepAliveMs?: number;
  /** Where the page's files are; default: `assets/` beside this module (or in src/ when built). */
  assetsDir?: string;
  onError?: (err: unknown, context: string) => void;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page's policy: its own scripts and styles only (inline styles for chart sizing and the
 * incident report), API calls to this origin, incident reports in sandboxed frames, and no
 * framing of the dashboard by other sites.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  'frame-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function defaultAssetsDir(): string {
  const here = fileURLToPath(new URL('./assets/', import.meta.url));
  if (existsSync(here)) return here;
  // Built with tsc (dist/dashboard/): the static files stay in the sources.
  return fileURLToPath(new URL('../../src/dashboard/assets/', import.meta.url));
}

function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    out.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  }
  return out;
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset) {
  void reply
    .header('content-type', a.type)
    .header('etag', a.etag)
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', DASHBOARD_CSP)
    .header('referrer-policy', 'no-referrer');
  if (req.headers['if-none-match'] === a.etag) return reply.status(304).send();
  return reply.send(a.body);
}

const scopeOf = (p: Principal): string | null => (p.role === 'tenant_contact' ? (p.tenantId ?? '') : null);

/**
 * The fleet dashboard, mounted at /dashboard: the page and its static ES modules (public: they
 * hold no data), and its API under /dashboard/api, authenticated with admin tokens exactly like
 * /admin/v1 and scoped the same way (a tenant contact sees its own tenant only):
 *
 * - `GET /api/fleet`: every tenant's rollout, traffic split, BETS verdict, canary-vs-control
 *   figures and health, the fleet's health score, and approvals waiting, in one response
 *   (ETag = revision; `If-None-Match` gives 304).
 * - `GET /api/tenants/:tenantId`: one tenant's record, plan, rollouts with their history, verdicts.
 * - `GET /api/stream`: Server-Sent Events; a `revision` event whenever what the caller may see
 *   changes (registry records, upgrades, rollout states, and the metrics minute).
 *
 * Everything else the page shows (metrics series, drift, BETS reports, incidents, audit) and every
 * action (approvals, pause, resume, rollback, abort) goes to the admin API itself.
 */
export const dashboardPlugin =
  (deps: DashboardDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const assets = loadAssets(deps.assetsDir ?? defaultAssetsDir());
    const index = assets.get('index.html');
    if (!index) throw new Error('the dashboard assets have no index.html');
    const views = new FleetViews(deps);
    const live = new LiveRevisions(
      (scopes) => views.revision(scopes),
      deps.liveIntervalMs ?? 2000,
      (err) => deps.onError?.(err, 'dashboard live revisions'),
    );
    app.addHook('onClose', async () => live.close());

    app.get('/', { schema: { hide: true } }, async (req, reply) => {
      // The page loads its files relative to itself, so it must be addressed as a folder.
      const [path, query] = req.url.split('?', 2) as [string, string | undefined];
      if (!path.endsWith('/'))
        return reply.redirect(`${path}/${query !== undefined ? `?${query}` : ''}`, 302);
      return sendAsset(req, reply, index);
    });
    app.get(
      '/assets/:name',
      { schema: { hide: true, params: Type.Object({ name: Type.String({ maxLength: 100 }) }) } },
      async (req, reply) => {
        const a = assets.get(req.params.name);
        if (!a) throw notFound('Asset', req.params.name);
        return sendAsset(req, reply, a);
      },
    );

    const apiRoutes: FastifyPluginAsyncTypebox = async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        req.principal = await deps.auth.authenticate(req);
        void reply.header('cache-control', 'no-store');
      });

      api.get(
        '/api/fleet',
        { schema: { tags: ['dashboard'], response: { 200: Type.Unknown(), ...ERRORS } } },
        async (req, reply) => {
          const p = principal(req);
          requirePermission(p, 'read');
          const view = await views.fleet(p);
          const etag = `"${view.revision}"`;
          void reply.header('etag', etag);
          if (req.headers['if-none-match'] === etag) return reply.status(304).send();
          return view;
        },
      );

      api.get(
        '/api/tenants/:tenantId',
        {
          schema: { tags: ['dashboard'], params: TenantParam, response: { 200: Type.Unknown(), ...ERRORS } },
        },
        async (req) => {
          const p = principal(req);
          requirePermission(p, 'read');
          scopeToTenant(p, req.params.tenantId);
          const detail = await views.tenant(req.params.tenantId);
          if (!detail) throw notFound('Tenant', req.params.tenantId);
          return detail;
        },
      );

      api.get(
        '/api/stream',
        { schema: { tags: ['dashboard'], response: { ...ERRORS } } },
        async (req, reply) => {
          const p = principal(req);
          requirePermission(p, 'read');
          const scope = scopeOf(p);
          // Fails before the stream starts (an error envelope), or not at all.
          const first = (await views.revision([scope])).get(scope) as string;
          reply.hijack();
          const res = reply.raw;
          res.writeHead(200, {
            ...(reply.getHeaders() as Record<string, string>),
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-store',
            'x-accel-buffering': 'no',
          });
          const send = (revision: string) => {
            res.write(`event: revision\ndata: ${JSON.stringify({ revision })}\n\n`);
          };
          res.write('retry: 3000\n\n');
          send(first);
          const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), deps.keepAliveMs ?? 15_000);
          keepAlive.unref();
          const stop = live.subscribe(scope, first, send, () => res.end());
          req.raw.on('close', () => {
            clearInterval(keepAlive);
            stop();
          });
        },
      );
    };
    // Its own encapsulated context, so the authentication hook covers the API and not the page.
    await app.register(apiRoutes);
  };
