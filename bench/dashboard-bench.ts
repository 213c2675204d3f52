/**
 * Fleet dashboard: time to first render of the fleet page with 500 tenants in headless Chromium,
 * from navigation start to the fleet table holding every row, measured in the page (a
 * MutationObserver installed before any script records `performance.now()`, which counts from
 * navigation start, when the table's body first has all its rows).
 *
 *   dashboard: GET /dashboard/ → its ES modules → GET /admin/v1/whoami and GET /dashboard/api/fleet
 *              (one call: every tenant's rollout, traffic split, canary-vs-control figures over
 *              15 minutes of rollups, health) → the table rendered in the browser
 *   baseline:  a static HTML page with the same 500-row table already rendered by the server
 *              and the same stylesheet (the floor: no scripts, no API call)
 *
 * The fleet: 500 tenants over the four default groups, one upgrade with rollouts in every phase,
 * and a canary and a control cohort of rollups per tenant for the last 15 minutes, on SQLite.
 * Rounds alternate the two pages (a first warm-up round of each is dropped); medians are reported.
 *
 * Run: npx tsx bench/dashboard-bench.ts [--tenants 500] [--rounds 9]   (needs /usr/bin/chromium)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import pino from 'pino';
import { adminApi } from '../src/admin/admin-api.js';
import { AdminAuth } from '../src/admin/admin-auth.js';
import { dashboardPlugin } from '../src/dashboard/dashboard-plugin.js';
import type { FleetView } from '../src/dashboard/fleet-view.js';
import { chromiumAvailable, launchChromium } from '../src/dashboard/test-support/chromium.js';
import {
  type SyntheticCohort,
  writeSyntheticRollups,
} from '../src/dashboard/test-support/synthetic-rollups.js';
import { createHttpApp } from '../src/http/create-http-app.js';
import { SqlIncidentStore } from '../src/rollout/incident.js';
import type { RolloutPhase } from '../src/rollout/rollout-types.js';
import { SqlRolloutStore } from '../src/rollout/sql-rollout-store.js';
import { UpgradeService } from '../src/rollout/upgrade-service.js';
import { SqlRollupStore } from '../src/telemetry/rollups/sql-rollup-store.js';
import { memorySqlite, registryOver, SYSTEM, seedModels } from '../src/test-support/registry-fixtures.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const TENANTS = arg('tenants', 500);
const ROUNDS = arg('rounds', 9);
const GROUPS = ['pioneers', 'early', 'standard', 'conservative'];
const PHASES: RolloutPhase[] = [
  'gating',
  'shadow',
  'canary',
  'awaiting_approval',
  'blocked',
  'complete',
  'rolled_back',
];

if (!chromiumAvailable()) {
  console.error('dashboard bench: no Chromium at /usr/bin/chromium (apt-get install chromium)');
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

// ---- the fleet ---------------------------------------------------------------------------------
const db = await memorySqlite();
const { store, registry, clock } = await registryOver(db);
await seedModels(registry);
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(4, '0')}`);
for (const [i, id] of ids.entries()) {
  await registry.createTenant(SYSTEM, {
    id,
    name: `Tenant ${i}`,
    rolloutGroup: GROUPS[i % GROUPS.length] as string,
    riskProfile: { criticality: (['low', 'medium', 'high'] as const)[i % 3] },
  });
  await registry.bindChannel(SYSTEM, id, { channel: 'gpt-x', stableVersionId: 'gpt-x-2026-01' });
}
const operator = (await registry.createAdminToken(SYSTEM, { name: 'bench', role: 'operator' })).secret;
const rollouts = new SqlRolloutStore(db);
const upgrades = new UpgradeService({ rollouts, registry: store, clock });
const started = await upgrades.start(
  { channel: 'gpt-x', fromVersionId: 'gpt-x-2026-01', toVersionId: 'gpt-x-2026-03' },
  'token:bench/bench',
);
for (const [i, r] of (await rollouts.listRollouts({ upgradeId: started.upgrade.id })).entries()) {
  const phase = PHASES[i % PHASES.length] as RolloutPhase;
  await rollouts.updateRollout(
    { ...r, phase, stage: phase === 'canary' ? 1 : 0, version: r.version + 1 },
    r.version,
  );
}
const rollups = new SqlRollupStore(db);
const now = clock.now();
const cohorts: SyntheticCohort[] = ids.flatMap((tenantId, i) => [
  {
    tenantId,
    channel: 'gpt-x',
    versionId: 'gpt-x-2026-01',
    cohort: 'stable',
    shape: () => ({ requests: 30, errorRate: 0.01 }),
  },
  {
    tenantId,
    channel: 'gpt-x',
    versionId: 'gpt-x-2026-03',
    cohort: 'canary',
    shape: () => ({ requests: 6, errorRate: i % 37 === 0 ? 0.2 : 0.01, toolCallInvalidRate: 0.01 }),
  },
]);
const rollupRows = await writeSyntheticRollups(rollups, cohorts, now - 15 * 60_000, now);

// ---- the server --------------------------------------------------------------------------------
const auth = new AdminAuth(store, registry);
const http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1 << 20 });
await http.register(
  adminApi({
    registry,
    store,
    auth,
    status: async () => ({}),
    upgrades: { upgrades, incidents: new SqlIncidentStore(db) },
  }),
  { prefix: '/admin/v1' },
);
await http.register(dashboardPlugin({ auth, store, rollouts, rollups, clock }), { prefix: '/dashboard' });

/** The baseline page: the same table, rendered by the server, with the same stylesheet. */
const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
let staticPage = '';
http.get('/baseline/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(staticPage));
http.get('/baseline/assets/dashboard.css', async (_req, reply) =>
  reply
    .type('text/css; charset=utf-8')
    .send(readFileSync(new URL('../src/dashboard/assets/dashboard.css', import.meta.url))),
);
const base = await http.listen({ host: '127.0.0.1', port: 0 });

const apiTimes: number[] = [];
let fleet: FleetView | null = null;
let fleetBytes = 0;
for (let i = 0; i < ROUNDS; i++) {
  const t0 = performance.now();
  const res = await fetch(`${base}/dashboard/api/fleet`, {
    headers: { authorization: `Bearer ${operator}` },
  });
  const text = await res.text();
  apiTimes.push(performance.now() - t0);
  fleetBytes = text.length;
  fleet = JSON.parse(text) as FleetView;
}
if (!fleet || fleet.rows.length !== TENANTS)
  throw new Error(`the fleet API returned ${fleet?.rows.length} rows`);
const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
staticPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>baseline</title>
<link rel="stylesheet" href="assets/dashboard.css"></head><body><main><table id="fleet"><thead><tr>
<th>tenant</th><th>group</th><th>criticality</th><th>rollout</th><th>canary</th><th>BETS</th><th>canary / control</th><th>health</th><th>since</th><th></th>
</tr></thead><tbody id="rows">${fleet.rows
  .map(
    (r) =>
      `<tr class="${r.health.status}" data-tenant="${esc(r.tenantId)}"><td><a href="#">${esc(r.name)}</a><div class="muted">${esc(r.tenantId)}</div></td><td>${esc(r.group)}</td><td>${r.criticality}</td><td><span class="phase phase-${r.rollout?.phase}">${esc(r.rollout?.phase ?? '')}</span></td><td class="num"><span class="bar"><span style="width:${r.canaryPercent}%"></span></span> ${r.canaryPercent}%</td><td>–</td><td>err ${pct(r.metrics?.canary.errorRate ?? null)} / ${pct(r.metrics?.control.errorRate ?? null)}</td><td class="health-${r.health.status}">${r.health.status}</td><td class="muted">${esc(r.rollout?.phaseSince ?? '')}</td><td></td></tr>`,
  )
  .join('')}</tbody></table></main></body></html>`;

// ---- the browser -------------------------------------------------------------------------------
const browser = await launchChromium();
// Runs in every document before its own scripts: the token (as after a sign-in), and the probe.
await browser.context.addInitScript(`
  window.sessionStorage.setItem('switchyard.dashboard.token', ${JSON.stringify(operator)});
  const check = () => {
    const body = document.getElementById('rows');
    if (window.__rendered === undefined && body && body.children.length >= ${TENANTS}) window.__rendered = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
`);

async function measure(path: string): Promise<number> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}${path}`);
  try {
    // A function, not a string: the dashboard's CSP forbids evaluating strings.
    await page.waitForFunction(
      () => (globalThis as { __rendered?: number }).__rendered !== undefined,
      undefined,
      {
        timeout: 30_000,
      },
    );
  } catch (e) {
    const body = (await page.textContent('body'))?.slice(0, 300);
    throw new Error(`${path} did not render its ${TENANTS} rows: ${errors.join('; ') || body}`, { cause: e });
  }
  const ms = await page.evaluate(() => (globalThis as { __rendered?: number }).__rendered as number);
  await page.close();
  return ms;
}

const dashboard: number[] = [];
const baseline: number[] = [];
for (let i = 0; i <= ROUNDS; i++) {
  const d = await measure('/dashboard/');
  const b = await measure('/baseline/');
  // Round 0 warms the browser, the server and the caches up.
  if (i > 0) {
    dashboard.push(d);
    baseline.push(b);
  }
}
await browser.close();
await http.close();
await db.close();

const result = {
  tenants: TENANTS,
  rounds: ROUNDS,
  rollupRows,
  fleetApi: { medianMs: round1(median(apiTimes)), bytes: fleetBytes },
  dashboard: {
    medianMs: round1(median(dashboard)),
    minMs: round1(Math.min(...dashboard)),
    maxMs: round1(Math.max(...dashboard)),
  },
  baseline: {
    medianMs: round1(median(baseline)),
    minMs: round1(Math.min(...baseline)),
    maxMs: round1(Math.max(...baseline)),
  },
  overBaselineMs: round1(median(dashboard) - median(baseline)),
  ratio: round1(median(dashboard) / median(baseline)),
  node: process.version,
  cpus: cpus().length,
  loadavg: loadavg().map(round1),
  at: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(new URL('./results/dashboard.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
