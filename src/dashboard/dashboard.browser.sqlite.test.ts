import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyard, type Switchyard } from '../app/compose.js';
import { validateConfig } from '../config/load-config.js';
import { DEMO_FLEET } from '../fleet/demo-fleet.js';
import { seedFleet } from '../fleet/seed-fleet.js';
import type { SqlRegistryStore } from '../registry/sql-registry-store.js';
import type { TenantRollout } from '../rollout/rollout-types.js';
import { controllerOver, type Harness, regressed } from '../rollout/test-support/controller-harness.js';
import { ManualClock } from '../shared/clock.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { SqlRollupStore } from '../telemetry/rollups/sql-rollup-store.js';
import { type Browser, CHROMIUM_PATH, chromiumAvailable, launchChromium } from './test-support/chromium.js';
import { type SyntheticCohort, writeSyntheticRollups } from './test-support/synthetic-rollups.js';

/**
 * The dashboard in a real browser over a real Switchyard (SQLite, the provider simulator as the
 * models' endpoint, the demo fleet): an upgrade driven by the rollout controller until a
 * conservative tenant waits for its two-party approval and another tenant was rolled back by
 * the guard; then people sign in with their own tokens and act through the page.
 *
 * The controller is the real one on a manual clock, with scripted BETS verdicts and guard
 * signals (the controller's own test harness), so three days of an upgrade pass in seconds.
 */
const REQUIRED = process.env.SWITCHYARD_REQUIRE_BROWSER === '1';
const AVAILABLE = chromiumAvailable();
if (!AVAILABLE && !REQUIRED) {
  console.warn(
    `dashboard browser test skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set SWITCHYARD_CHROMIUM; SWITCHYARD_REQUIRE_BROWSER=1 makes this a failure)`,
  );
}

const SHOTS = 'test-artifacts/screenshots';
const MINUTE = 60_000;
const OPERATOR = 'sya-dashboard-browser-test-operator-00';
const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0));
let sim: RunningSimulator;
let sw: Switchyard;
let url: string;
let h: Harness;
let browser: Browser;
let page: Page;
let upgradeId: string;
const tokens: Record<string, string> = { operator: OPERATOR };

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function rollout(tenantId: string): Promise<TenantRollout> {
  const [r] = await sw.rollouts.listRollouts({ upgradeId, tenantId });
  if (!r) throw new Error(`no rollout of ${tenantId}`);
  return r;
}

/** Controller passes on an advancing clock until `done` holds. */
async function runUntil(done: () => Promise<boolean>, stepMs = 30 * MINUTE, max = 400): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await done()) return;
    clock.advance(stepMs);
    await h.controller.runOnce();
  }
  throw new Error('the upgrade did not reach the expected state');
}

const phaseOf = async (t: string) => (await rollout(t)).phase;

async function signIn(who: string) {
  await page.goto(`${url}/dashboard`);
  await page.fill('#token', tokens[who] as string);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#who .role');
}

async function signOut() {
  await page.click('#signout');
  await page.waitForSelector('#signin');
}

async function confirm(reason: string) {
  await page.waitForSelector('#confirm[open]');
  await page.fill('#confirm-reason', reason);
  await page.click('#confirm-ok');
  await page.waitForSelector('#confirm', { state: 'hidden' });
}

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const text = async (selector: string) => (await page.textContent(selector))?.trim() ?? '';

describe.skipIf(!AVAILABLE && !REQUIRED)('the fleet dashboard in Chromium', () => {
  beforeAll(async () => {
    if (!AVAILABLE)
      throw new Error(`SWITCHYARD_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM_PATH}`);
    mkdirSync(SHOTS, { recursive: true });
    sim = await startSimulator({
      seed: 11,
      models: { 'sim-2026-01': {}, 'sim-2026-06': {}, 'sim-judge': { judge: {} } },
    });
    const config = validateConfig({
      server: { port: 0 },
      storage: { sqlitePath: ':memory:' },
      log: { level: 'silent' },
    });
    sw = await createSwitchyard(config, { env: { SWITCHYARD_ADMIN_TOKEN: OPERATOR }, clock });
    url = await sw.listen();
    // The process's own controller ticks on real time; this test moves the one below on its clock.
    await sw.controller.stop();
    await seedFleet(sw.registry, sw.store, sw.bets.suites, DEMO_FLEET, { endpoint: `${sim.url}/v1` });
    for (const [name, role, tenantId] of [
      ['alice', 'approver', undefined],
      ['carol', 'tenant_contact', 'legal-summarizer'],
      ['victor', 'viewer', undefined],
    ] as const) {
      const t = await sw.registry.createAdminToken(
        { actor: 'test' },
        { name, role, ...(tenantId ? { tenantId } : {}) },
      );
      tokens[name] = t.secret;
    }
    h = controllerOver({
      db: sw.db,
      rollouts: sw.rollouts,
      registry: sw.registry,
      store: sw.store as SqlRegistryStore,
      clock,
    });
    for (const t of DEMO_FLEET.tenants) h.gate.verdicts.set(t.id, { outcome: 'pass', reason: null });
    h.gate.verdicts.set('logistics-planner', { outcome: 'fail', reason: 'toolCall pass rate 0.58 < 0.95' });

    const started = await admin('POST', '/upgrades', {
      channel: DEMO_FLEET.channel,
      fromVersionId: DEMO_FLEET.stable.id,
      toVersionId: DEMO_FLEET.candidate.id,
      reason: 'quarterly model upgrade',
    });
    expect(started.status).toBe(201);
    upgradeId = (started.body.upgrade as { id: string }).id;
    // support-bot regresses once it serves canary traffic; the guard rolls it back (its policy).
    await runUntil(async () => (await phaseOf('support-bot')) === 'canary');
    h.signals.profiles.set('support-bot', regressed);
    await runUntil(async () => (await phaseOf('support-bot')) === 'rolled_back', 5 * MINUTE);
    await runUntil(async () => (await phaseOf('legal-summarizer')) === 'awaiting_approval');
    await runUntil(async () => (await phaseOf('medical-intake')) === 'awaiting_approval');

    // Six hours of traffic for the charts and the fleet's canary-vs-control figures.
    const now = clock.now();
    const cohorts: SyntheticCohort[] = DEMO_FLEET.tenants.flatMap((t) => [
      {
        tenantId: t.id,
        channel: DEMO_FLEET.channel,
        versionId: DEMO_FLEET.stable.id,
        cohort: 'stable',
        shape: (m) => ({
          requests: 40,
          errorRate: 0.005,
          toolCallInvalidRate: 0.01,
          taskFailureRate: 0.04,
          latencyMs: 380 + ((m / MINUTE) % 40),
        }),
      },
      {
        tenantId: t.id,
        channel: DEMO_FLEET.channel,
        versionId: DEMO_FLEET.candidate.id,
        cohort: t.group === 'conservative' ? 'shadow' : 'canary',
        shape: () => ({
          requests: t.group === 'conservative' ? 0 : 8,
          errorRate: 0.005,
          toolCallInvalidRate: t.id === 'support-bot' ? 0.25 : 0.012,
          coercionRate: 0.01,
          taskFailureRate: 0.05,
          judgeMean: 0.91,
          latencyMs: 420,
        }),
      },
    ]);
    await writeSyntheticRollups(new SqlRollupStore(sw.db), cohorts, now - 360 * MINUTE, now);
    browser = await launchChromium();
    page = await browser.context.newPage();
    // Fail with the step that did not happen rather than with the test's timeout.
    page.setDefaultTimeout(10_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sw?.close();
    await sim?.close();
  });

  it('shows an operator the whole fleet, its health and what waits', async () => {
    await page.goto(`${url}/dashboard`);
    await page.waitForSelector('#signin');
    await shot('01-sign-in');
    await signIn('operator');
    await page.waitForSelector('#rows tr');
    expect(await page.locator('#rows tr').count()).toBe(DEMO_FLEET.tenants.length);
    expect(await text('#total-tenants .n')).toBe(String(DEMO_FLEET.tenants.length));
    expect(await text('#total-awaiting .n')).toBe('2');
    expect(await text('#total-rolled-back .n')).toBe('1');
    expect(await text('#total-blocked .n')).toBe('1');
    expect(await page.getAttribute('#rows tr[data-tenant=support-bot]', 'data-phase')).toBe('rolled_back');
    expect(await page.getAttribute('#rows tr[data-tenant=logistics-planner]', 'data-phase')).toBe('blocked');
    const score = Number(await page.getAttribute('#health .n', 'data-score'));
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(100);
    // An operator operates; approvals belong to approvers and tenant contacts.
    expect(await page.locator('button[data-action=approve]').count()).toBe(0);
    expect(await page.locator('button[data-action=abort-upgrade]').count()).toBe(1);
    await shot('02-fleet-operator');
  });

  it('lets an approver give the platform approval, and reject a stage, which rolls that tenant back', async () => {
    await signOut();
    await signIn('alice');
    const legal = page.locator('#approvals li[data-tenant=legal-summarizer]');
    await legal.locator('button[data-action=approve]').click();
    await confirm('BETS and shadow look clean');
    await page.waitForSelector('#approvals li[data-tenant=legal-summarizer] .party.given');
    expect(await legal.locator('.party.given').textContent()).toContain('platform ✓ alice');
    expect(await legal.locator('button[data-action=approve]').count()).toBe(0);
    // Operators' buttons are not an approver's.
    expect(await page.locator('button[data-action=pause-tenant]').count()).toBe(0);
    await shot('03-approver-approved');

    await page.locator('#approvals li[data-tenant=medical-intake] button[data-action=reject]').click();
    await confirm('not before the audit');
    await page.waitForSelector('#rows tr[data-tenant=medical-intake][data-phase=rolling_back]');
    // The controller finishes the rollback; the page follows through the live stream.
    await runUntil(async () => (await phaseOf('medical-intake')) === 'rolled_back', MINUTE);
    await page.waitForSelector('#rows tr[data-tenant=medical-intake][data-phase=rolled_back]', {
      timeout: 15_000,
    });
    expect(await text('#total-rolled-back .n')).toBe('2');
    await shot('04-approver-rejected-rolled-back');
  }, 60_000);

  it('shows a tenant contact only its tenant, takes its approval, and follows the stage it opens', async () => {
    await signOut();
    await signIn('carol');
    await page.waitForSelector('#rows tr');
    expect(await page.locator('#rows tr').count()).toBe(1);
    const body = (await page.textContent('body')) ?? '';
    for (const other of DEMO_FLEET.tenants.filter((t) => t.id !== 'legal-summarizer'))
      expect(body).not.toContain(other.id);
    await page.locator('#approvals li[data-tenant=legal-summarizer] button[data-action=approve]').click();
    await confirm('our on-call is ready');
    await page.waitForSelector('#approvals li[data-tenant=legal-summarizer] .party.given >> nth=1');
    expect(await page.locator('#approvals .party.missing').count()).toBe(0);
    await h.controller.runOnce();
    expect((await rollout('legal-summarizer')).phase).toBe('canary');
    await page.waitForSelector('#rows tr[data-tenant=legal-summarizer][data-phase=canary]', {
      timeout: 15_000,
    });
    expect(await text('#rows tr[data-tenant=legal-summarizer] .phase')).toBe('canary 1/4 · 1%');
    await shot('05-contact-approved-canary');

    await page.click('#rows tr[data-tenant=legal-summarizer] a');
    await page.waitForSelector('#rollout[data-phase=canary]');
    const timeline = (await page.textContent('#timeline')) ?? '';
    expect(timeline).toContain('alice');
    expect(timeline).toContain('carol');
    expect(timeline).toContain('awaiting_approval(1) -> canary(1)');
    expect(await page.locator('#signals svg').count()).toBe(7);
    expect(
      Number(await page.getAttribute('#signals svg[aria-label="Error rate"]', 'data-points')),
    ).toBeGreaterThan(0);
    expect(
      Number(await page.getAttribute('#signals svg[aria-label^="Judge"]', 'data-points')),
    ).toBeGreaterThan(0);
    await shot('06-tenant-page-contact');
    // Another tenant's page is as missing to a contact as a tenant that does not exist.
    await page.goto(`${url}/dashboard/#/tenants/support-bot`);
    await page.waitForSelector('.panel.error');
    expect(await text('.panel.error p')).toContain('not_found');
  }, 60_000);

  it("shows an operator a rolled-back tenant's incident report, and pauses and resumes a rollout", async () => {
    await signOut();
    await signIn('operator');
    await page.goto(`${url}/dashboard/#/tenants/support-bot`);
    await page.waitForSelector('#rollout[data-phase=rolled_back]');
    await page.locator('#incidents button[data-report]').first().click();
    const frame = page.frameLocator('#report-frame iframe');
    await expect.poll(async () => (await frame.locator('body').textContent()) ?? '').toContain('support-bot');
    await shot('07-incident-report');

    await page.goto(`${url}/dashboard/#/`);
    const active = (await sw.rollouts.listRollouts({ upgradeId })).find(
      (r) => r.phase === 'canary' && r.tenantId !== 'legal-summarizer',
    );
    if (!active) throw new Error('expected a tenant in canary');
    const row = `#rows tr[data-tenant=${active.tenantId}]`;
    await page.locator(`${row} button[data-action=pause-tenant]`).click();
    await confirm('investigating a customer report');
    await page.waitForSelector(`${row}[data-phase=paused]`);
    await page.locator(`${row} button[data-action=resume-tenant]`).click();
    await confirm('false alarm');
    await page.waitForSelector(`${row}[data-phase=canary]`);
    expect((await rollout(active.tenantId)).phase).toBe('canary');

    await page.click('nav a[data-page=audit]');
    await page.waitForSelector('#audit tr.audit-row');
    expect(await page.locator('#audit tr.audit-row').count()).toBeGreaterThan(10);
    await shot('08-audit-log');
  }, 60_000);
});
