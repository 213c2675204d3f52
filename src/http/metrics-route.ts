import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { unauthenticated } from '../shared/errors.js';

/** What the route serves: `PrometheusMetrics` fits. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `GET /metrics` in the Prometheus text exposition format. Open by default, as is the
 * Prometheus convention for a port only the monitoring network reaches; with a bearer token
 * (SWITCHYARD_METRICS_TOKEN) a scrape must send `Authorization: Bearer <token>` or get 401
 * `unauthenticated` in the usual error envelope.
 */
export const metricsRoute =
  (deps: { metrics: MetricsSource; bearerToken?: string | undefined }): FastifyPluginAsync =>
  async (app) => {
    const expected = deps.bearerToken ? digest(deps.bearerToken) : null;
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      if (expected) {
        const header = req.headers.authorization;
        const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : null;
        // Compared as digests: equal length, constant time.
        if (given === null || !timingSafeEqual(digest(given), expected)) {
          void reply.header('www-authenticate', 'Bearer realm="metrics"');
          throw unauthenticated('GET /metrics requires the metrics token');
        }
      }
      const body = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).header('cache-control', 'no-store').send(body);
    });
  };
