import type { FastifyPluginAsync } from 'fastify';
import type { ChangeBus } from '../registry/change-bus.js';
import type { SnapshotManager } from '../registry/snapshot-manager.js';
import type { SqlDatabase } from '../storage/sql-database.js';

/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: it has a routing snapshot and
 * can serve). A process that lost Redis or its database still serves from its snapshot, so it
 * stays ready and says `degraded`, naming what is down.
 */
export const healthRoutes =
  (deps: {
    db: SqlDatabase;
    bus: ChangeBus;
    snapshots: SnapshotManager;
    /** What this process runs (`process.role`), reported so operators and balancers can tell. */
    role?: string;
    /** Further parts that are down while the process still serves (session pins, breakers). */
    degraded?: () => string[];
  }): FastifyPluginAsync =>
  async (app) => {
    const role = deps.role ? { role: deps.role } : {};
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', ...role }));
    app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
      const snapshot = deps.snapshots.current();
      const dbOk = await deps.db.ping().catch(() => false);
      const busOk = deps.bus.healthy();
      const ready = snapshot.version >= 0;
      const down = [...(dbOk ? [] : ['storage']), ...(busOk ? [] : ['cache']), ...(deps.degraded?.() ?? [])];
      return reply.status(ready ? 200 : 503).send({
        status: !ready ? 'starting' : down.length ? 'degraded' : 'ok',
        ...role,
        snapshotVersion: snapshot.version,
        down,
      });
    });
  };
