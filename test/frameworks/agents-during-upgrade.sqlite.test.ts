import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnthropicTask } from '../../examples/agents/anthropic-agent.js';
import { runLangGraphTask } from '../../examples/agents/langgraph-agent.js';
import { runOpenAITask } from '../../examples/agents/openai-agent.js';
import type { AgentOptions, TaskResult } from '../../examples/agents/run-task.js';
import { SwitchyardSession, selfCorrectionOf } from '../../examples/agents/switchyard-session.js';
import { type AgentTool, jsonSchemaOf, TRIP_TOOLS } from '../../examples/agents/trip-tools.js';
import { createSwitchyard, type Switchyard } from '../../src/app/compose.js';
import { validateConfig } from '../../src/config/load-config.js';
import type { FailurePolicy } from '../../src/registry/types.js';
import { ManualClock } from '../../src/shared/clock.js';
import { type KnownCase, type RunningSimulator, startSimulator } from '../../src/simulator/index.js';
import type { TelemetryEvent } from '../../src/telemetry/telemetry-event.js';

/**
 * Issue #8: the example agents (LangGraph.js, the OpenAI SDK, the Anthropic SDK) run multi-step
 * tool tasks through an in-process Switchyard (SQLite, manual clock) during an upgrade whose
 * candidate sends `days` as a string to get_forecast. Two tenants with the agents' tools as
 * contracts: `trips` (failure policy fallback) and `trips-strict` (policy error), both in a
 * 50% canary. Then an operator rolls `trips` back (freeze, drain, hard cut) while each agent is
 * half-way through a task on the candidate.
 */

const OPERATOR = 'token:op/olga';
const SYSTEM = { actor: 'test:agents' };
const clock = new ManualClock(Date.UTC(2026, 10, 20, 9, 0, 0));

interface Task {
  text: string;
  calls: { name: string; arguments: Record<string, unknown> }[];
}

const TASKS: Task[] = [
  {
    text: 'Plan a weekend in Lisbon: get the 3-day forecast, then convert 250 EUR to USD for the budget.',
    calls: [
      { name: 'get_forecast', arguments: { city: 'Lisbon', days: 3 } },
      { name: 'convert_currency', arguments: { amount: 250, from: 'EUR', to: 'USD' } },
    ],
  },
  {
    text: 'Get the 5-day forecast for Oslo, then remind me to pack a raincoat on 2026-12-04.',
    calls: [
      { name: 'get_forecast', arguments: { city: 'Oslo', days: 5 } },
      { name: 'create_reminder', arguments: { text: 'Pack a raincoat', date: '2026-12-04' } },
    ],
  },
  {
    text: 'Convert 120 GBP to JPY, get the 2-day forecast for Tokyo, then remind me to book a ryokan on 2026-12-10.',
    calls: [
      { name: 'convert_currency', arguments: { amount: 120, from: 'GBP', to: 'JPY' } },
      { name: 'get_forecast', arguments: { city: 'Tokyo', days: 2 } },
      { name: 'create_reminder', arguments: { text: 'Book a ryokan', date: '2026-12-10' } },
    ],
  },
];
// The task whose first call (convert_currency) the candidate gets right: a session on the
// candidate is still there when its first tool runs.
const PROBE = TASKS[2] as Task;

const knownCases: KnownCase[] = TASKS.map((t) => ({
  messagesMatch: t.text,
  expected: t.calls[0] as KnownCase['expected'],
  followUps: t.calls.slice(1),
}));

type Run = (task: string, o: AgentOptions) => Promise<TaskResult>;
interface Agent {
  name: string;
  run: Run;
  channel: 'gpt' | 'claude';
}
const AGENTS: Agent[] = [
  { name: 'langgraph', run: runLangGraphTask, channel: 'gpt' },
  { name: 'openai', run: runOpenAITask, channel: 'gpt' },
  { name: 'anthropic', run: runAnthropicTask, channel: 'claude' },
];
const STABLE = { gpt: 'gpt-2026-01', claude: 'claude-2026-01' };
const CANDIDATE = { gpt: 'gpt-2026-06', claude: 'claude-2026-06' };
const TENANTS: Record<string, FailurePolicy> = { trips: 'fallback', 'trips-strict': 'error' };

let sim: RunningSimulator;
let app: Switchyard;
let url: string;
const keys: Record<string, string> = {};
const upgradeIds: Record<'gpt' | 'claude', string> = { gpt: '', claude: '' };
const events = new Map<string, TelemetryEvent>();

/** Every call that reached a tool function: which session, which tool, what arguments. */
const executions: { session: string; tool: string; args: unknown }[] = [];
/** Phase 2: called before a tool runs; may hold the tool until the hard cut is done. */
let beforeTool: ((session: SwitchyardSession) => Promise<void>) | null = null;
const TOOLS: AgentTool[] = TRIP_TOOLS.map((t) => ({
  ...t,
  run: async (args, ctx) => {
    executions.push({ session: ctx.session.id, tool: t.name, args });
    await beforeTool?.(ctx.session);
    return t.run(args, ctx);
  },
}));

const optionsFor = (agent: Agent, tenant: string, taskId?: string): AgentOptions => ({
  gatewayUrl: url,
  apiKey: keys[tenant] ?? '',
  model: agent.channel,
  tools: TOOLS,
  ...(taskId ? { taskId } : {}),
});

async function syncSnapshot(): Promise<void> {
  await app.snapshots.request(await app.store.version());
}

async function phaseOf(channel: 'gpt' | 'claude', tenantId: string): Promise<string> {
  const [r] = await app.rollouts.listRollouts({ upgradeId: upgradeIds[channel], tenantId });
  return r?.phase ?? 'none';
}

/** Controller passes on an advancing clock until every rollout of `tenantIds` is in `phase`. */
async function controllerUntil(tenantIds: string[], phase: string, stepMs: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const phases = await Promise.all(tenantIds.flatMap((t) => [phaseOf('gpt', t), phaseOf('claude', t)]));
    if (phases.every((p) => p === phase)) return syncSnapshot();
    clock.advance(stepMs);
    await app.controller.runOnce();
  }
  throw new Error(`rollouts of ${tenantIds.join(', ')} never reached ${phase}`);
}

beforeAll(async () => {
  const drift = { drift: [{ kind: 'number_as_string' as const, rate: 1, tools: ['get_forecast'] }] };
  sim = await startSimulator({
    seed: 8,
    models: { 'sim-gpt-01': {}, 'sim-gpt-06': drift, 'sim-claude-01': {}, 'sim-claude-06': drift },
    knownCases,
  });
  const config = validateConfig({
    server: { port: 0 },
    storage: { sqlitePath: ':memory:' },
    log: { level: 'silent' },
    gateway: { telemetry: { flushIntervalMs: 20 } },
    // Passes run when the test says so (runOnce); no BETS suites here, so the gate lets them through.
    controller: { tickMs: 600_000, drainTimeoutMs: 60_000, betsWithoutSuite: 'pass' },
  });
  app = await createSwitchyard(config, {
    env: { SWITCHYARD_ADMIN_TOKEN: 'sya-frameworks-test-token-0000000' },
    clock,
  });
  app.telemetry.add({
    observe: (batch) => {
      for (const e of batch) events.set(e.requestId, e);
    },
  });
  url = await app.listen();

  const r = app.registry;
  for (const [channel, anthropic] of [
    ['gpt', false],
    ['claude', true],
  ] as const) {
    const base = {
      channel,
      providerKind: anthropic ? ('anthropic' as const) : ('openai-compatible' as const),
      endpoint: anthropic ? sim.url : `${sim.url}/v1`,
    };
    await r.createModel(SYSTEM, {
      ...base,
      id: STABLE[channel],
      upstreamModel: `sim-${channel}-01`,
      lifecycle: 'active',
    });
    await r.createModel(SYSTEM, { ...base, id: CANDIDATE[channel], upstreamModel: `sim-${channel}-06` });
  }
  await r.createGroup(SYSTEM, {
    id: 'half',
    name: 'Half canary',
    rank: 4,
    plan: {
      stages: [{ percent: 50, soakHours: 1000, approvals: [] }],
      betsThresholds: { toolCall: 0.9, format: 0.9, semantic: 0.8 },
      shadowHours: 0,
      minDurationHours: 1000,
    },
  });
  for (const [tenantId, failurePolicy] of Object.entries(TENANTS)) {
    await r.createTenant(SYSTEM, { id: tenantId, name: tenantId, rolloutGroup: 'half', failurePolicy });
    for (const channel of ['gpt', 'claude'] as const) {
      await r.bindChannel(SYSTEM, tenantId, { channel, stableVersionId: STABLE[channel] });
      // The agents' own zod schemas are the contracts (on stable; the candidate is held to them).
      for (const t of TRIP_TOOLS) {
        await r.registerContract(SYSTEM, tenantId, {
          modelVersionId: STABLE[channel],
          name: t.name,
          definition: { kind: 'tool', description: t.description, parameters: jsonSchemaOf(t) },
        });
      }
    }
    keys[tenantId] = (await r.createApiKey(SYSTEM, tenantId, { label: 'agents' })).secret;
  }
  for (const channel of ['gpt', 'claude'] as const) {
    const s = await app.upgrades.start(
      { channel, fromVersionId: STABLE[channel], toVersionId: CANDIDATE[channel] },
      OPERATOR,
    );
    upgradeIds[channel] = s.upgrade.id;
  }
  await controllerUntil(Object.keys(TENANTS), 'canary', 60_000);
});

afterAll(async () => {
  beforeTool = null;
  await app?.close();
  await sim?.close();
});

const onCandidate = (s: SwitchyardSession, agent: Agent) =>
  s.turns.some((t) => t.version === CANDIDATE[agent.channel]);
const versionsOf = (turns: SwitchyardSession['turns']) => [...new Set(turns.map((t) => t.version))];

interface Ran {
  agent: Agent;
  tenant: string;
  results: TaskResult[];
}

/** Runs the agent on the tasks in turn until the canary has served two of its sessions and stable one. */
async function runDuringCanary(agent: Agent, tenant: string): Promise<Ran> {
  const results: TaskResult[] = [];
  for (let i = 0; i < 30; i++) {
    const task = TASKS[i % TASKS.length] as Task;
    results.push(await agent.run(task.text, optionsFor(agent, tenant)));
    const first = results.map((r) => r.sessions[0] as SwitchyardSession);
    const canary = first.filter((s) => onCandidate(s, agent)).length;
    if (canary >= 2 && first.length - canary >= 1 && i >= TASKS.length - 1) break;
  }
  return { agent, tenant, results };
}

describe('agent frameworks through Switchyard during an upgrade', () => {
  let runs: Ran[] = [];

  it('runs every agent through the canary: tool calls validated, one version per session', async () => {
    runs = await Promise.all(
      Object.keys(TENANTS).flatMap((tenant) => AGENTS.map((agent) => runDuringCanary(agent, tenant))),
    );
    await app.gateway.settle();

    for (const { agent, tenant, results } of runs) {
      const where = `${agent.name} on ${tenant}`;
      const sessions = results.flatMap((r) => r.sessions);
      // Both cohorts served this agent; no session was reset (nothing was cut yet).
      expect(
        sessions.some((s) => onCandidate(s, agent)),
        where,
      ).toBe(true);
      expect(
        sessions.some((s) => !onCandidate(s, agent)),
        where,
      ).toBe(true);
      expect(
        sessions.every((s) => s.turns.every((t) => !t.reset)),
        where,
      ).toBe(true);
      // The agent never received a tool call its own schema check had to refuse.
      expect(
        results.map((r) => r.rejectedToolCalls),
        where,
      ).toEqual(results.map(() => 0));

      for (const s of sessions) {
        expect(s.turns.length, where).toBeGreaterThan(1);
        expect(new Set(s.turns.map((t) => t.session)), where).toEqual(new Set([s.id]));
        // The gateway routed every turn of the session to one version and cohort.
        const routed = s.turns.map((t) => events.get(t.requestId ?? ''));
        expect(
          routed.every((e) => e !== undefined),
          where,
        ).toBe(true);
        expect(new Set(routed.map((e) => e?.cohort)).size, where).toBe(1);
        // What the agent saw: one version, except answers stable gave in the candidate's place
        // (policy fallback), which name stable as the version that answered.
        const own = s.turns.filter((t) => events.get(t.requestId ?? '')?.fallback === null);
        const fallbacks = s.turns.filter(
          (t) => events.get(t.requestId ?? '')?.fallback === 'tool_call_invalid',
        );
        expect(versionsOf(own).length, where).toBe(1);
        for (const t of fallbacks) {
          expect(t.version, where).toBe(STABLE[agent.channel]);
          expect(t.cohort, where).toBe('stable');
        }
        if (TENANTS[tenant] === 'error') expect(fallbacks, where).toEqual([]);
      }

      const stableSessions = results.filter((r) => !onCandidate(r.sessions[0] as SwitchyardSession, agent));
      expect(
        stableSessions.every((r) => r.status === 'completed' && r.corrections === 0),
        where,
      ).toBe(true);
      if (TENANTS[tenant] === 'fallback') {
        // Fallback: every task completes; the agent never sees the invalid calls.
        expect(
          results.map((r) => r.status),
          where,
        ).toEqual(results.map(() => 'completed'));
        expect(
          results.every((r) => r.corrections === 0),
          where,
        ).toBe(true);
      } else {
        // Error: candidate sessions got the 422 self-correction error instead of the call, tried
        // to correct, and the task failed naming the broken argument (which no tool received).
        const rejected = results.filter((r) => r.corrections > 0);
        expect(rejected.length, where).toBeGreaterThan(0);
        for (const r of rejected) {
          const s = r.sessions[0] as SwitchyardSession;
          expect(onCandidate(s, agent), where).toBe(true);
          expect(s.turns.filter((t) => t.status === 422).length, where).toBe(
            r.corrections + (r.status === 'failed' ? 1 : 0),
          );
          if (r.status === 'failed')
            expect(r.error, where).toMatch(/get_forecast.*\/days: expected integer, got string/);
        }
      }
    }

    // Every argument that reached a tool matches the tool's schema (days is an integer).
    for (const x of executions) {
      const tool = TRIP_TOOLS.find((t) => t.name === x.tool);
      expect(tool?.schema.safeParse(x.args).success, `${x.tool} ${JSON.stringify(x.args)}`).toBe(true);
    }

    // The gateway checked the calls against the contracts, on both versions, and caught the candidate's.
    const all = [...events.values()].filter((e) => e.tenantId in TENANTS);
    for (const [tenant, policy] of Object.entries(TENANTS)) {
      const mine = all.filter((e) => e.tenantId === tenant);
      const caught = mine.filter((e) => e.toolCallsInvalid > 0);
      expect(caught.length, tenant).toBeGreaterThan(0);
      expect(
        caught.every((e) => e.cohort === 'canary' && e.invalidKinds.includes('type')),
        tenant,
      ).toBe(true);
      expect(
        caught.every((e) => e.policyAction === policy),
        tenant,
      ).toBe(true);
      expect(
        mine.filter((e) => e.cohort === 'stable').reduce((n, e) => n + e.toolCallsChecked, 0),
        tenant,
      ).toBeGreaterThan(0);
      expect(
        mine.filter((e) => e.cohort === 'canary').reduce((n, e) => n + e.toolCallsChecked, 0),
        tenant,
      ).toBeGreaterThan(0);
    }
  });

  it('without the gateway, the candidate’s calls would reach the agent invalid', async () => {
    const direct = await runOpenAITask((TASKS[0] as Task).text, {
      gatewayUrl: sim.url,
      apiKey: 'sim',
      model: 'sim-gpt-06',
      tools: TOOLS,
      feedback: false,
    });
    expect(direct.rejectedToolCalls).toBe(1);
    expect(executions.filter((x) => x.session === direct.sessions[0]?.id).map((x) => x.tool)).toEqual([
      'convert_currency',
    ]);
  });

  it('streams: the headers come with the stream; a rejected tool call is a 422 before any byte', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: keys['trips-strict'] ?? '', maxRetries: 0 });
    const tools: OpenAI.ChatCompletionTool[] = TRIP_TOOLS.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: jsonSchemaOf(t) },
    }));
    const seen = { streamed: 0, rejected: 0 };
    for (let i = 0; i < 30 && (seen.streamed === 0 || seen.rejected === 0); i++) {
      const session = new SwitchyardSession(`stream-${i}`);
      const request = client.chat.completions.create(
        { model: 'gpt', stream: true, messages: [{ role: 'user', content: (TASKS[0] as Task).text }], tools },
        { headers: session.headers },
      );
      try {
        const { data, response } = await request.withResponse();
        session.observe(response.status, response.headers);
        const calls: string[] = [];
        for await (const chunk of data) {
          for (const d of chunk.choices[0]?.delta.tool_calls ?? [])
            if (d.function?.name) calls.push(d.function.name);
        }
        expect(session.lastTurn).toMatchObject({
          version: STABLE.gpt,
          cohort: 'stable',
          session: session.id,
        });
        expect(calls).toEqual(['get_forecast']);
        seen.streamed++;
      } catch (err) {
        // The candidate's answer was only a tool call, held until complete: nothing was sent yet.
        expect(err).toBeInstanceOf(OpenAI.UnprocessableEntityError);
        const report = selfCorrectionOf(err);
        expect(report?.errors[0]).toMatchObject({ kind: 'schema_violation', tool: 'get_forecast' });
        expect(report?.errors[0]?.errors[0]).toMatchObject({ path: '/days', keyword: 'type' });
        expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-switchyard-version')).toBe(
          CANDIDATE.gpt,
        );
        seen.rejected++;
      }
    }
    expect(seen.streamed).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('a hard cut mid-task: each agent sees the reset, restarts on a fresh session and completes on stable', async () => {
    let cutDone = false;
    let releaseCut = () => {};
    const cut = new Promise<void>((resolve) => {
      releaseCut = resolve;
    });
    const holding = new Map<string, (s: SwitchyardSession) => void>();
    beforeTool = async (session) => {
      const held = holding.get(session.taskId);
      if (!held || cutDone || session.lastTurn?.cohort !== 'canary') return;
      held(session);
      await cut;
    };

    /** Starts the probe task until one runs on the candidate and is held at its first tool. */
    const heldOnCandidate = async (agent: Agent) => {
      for (let i = 0; i < 30; i++) {
        const taskId = `probe-${agent.name}-${i}`;
        const held = new Promise<SwitchyardSession>((resolve) => holding.set(taskId, resolve));
        const result = agent.run(PROBE.text, optionsFor(agent, 'trips', taskId));
        const first = await Promise.race([held, result]);
        if (!('status' in first)) return { agent, session: first, result };
      }
      throw new Error(`${agent.name}: no probe session landed on the candidate`);
    };
    const probes = await Promise.all(AGENTS.map(heldOnCandidate));

    // An operator rolls trips back on both channels; the controller freezes, drains, and cuts.
    for (const channel of ['gpt', 'claude'] as const) {
      await app.upgrades.rollback(upgradeIds[channel], 'trips', OPERATOR, 'agents test: hard cut');
    }
    await controllerUntil(['trips'], 'rolled_back', 30_000);
    cutDone = true;
    releaseCut();

    for (const { agent, session, result } of probes) {
      const r = await result;
      const where = agent.name;
      expect(r.status, where).toBe('completed');
      expect(
        r.sessions.map((s) => s.id),
        where,
      ).toEqual([session.id, expect.any(String)]);
      const [cutSession, fresh] = r.sessions as [SwitchyardSession, SwitchyardSession];
      expect(fresh.id, where).not.toBe(cutSession.id);
      expect(fresh.taskId, where).toBe(cutSession.taskId);

      // Before the cut: the candidate. The next answer: stable, with the reset signal.
      const last = cutSession.turns.at(-1);
      expect(versionsOf(cutSession.turns.slice(0, -1)), where).toEqual([CANDIDATE[agent.channel]]);
      expect(last?.reset, where).toBe(true);
      expect(last?.version, where).toBe(STABLE[agent.channel]);
      // The reset answer was not acted on: only the call made before the cut ran in that session.
      const ran = (s: SwitchyardSession) => executions.filter((x) => x.session === s.id).map((x) => x.tool);
      expect(ran(cutSession), where).toEqual(['convert_currency']);

      // The restarted task ran from the start on stable, every turn, with no reset.
      expect(
        fresh.turns.every((t) => t.version === STABLE[agent.channel] && t.cohort === 'stable'),
        where,
      ).toBe(true);
      expect(
        fresh.turns.some((t) => t.reset),
        where,
      ).toBe(false);
      expect(ran(fresh), where).toEqual(PROBE.calls.map((c) => c.name));
    }
  });
});
