import escapeHtml from 'escape-html';
import type { Decision } from '../guard/decide.js';
import type { Evidence, Finding } from '../guard/evidence.js';
import {
  type CohortCounts,
  emptyCohort,
  type LatencyWindow,
  mergeCohorts,
  RATE_SIGNALS,
  type RateSignalName,
  type RollupBucket,
  rateCounts,
  rateOf,
} from '../guard/signals.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import type { FailingCallSample } from './failing-call-samples.js';
import { decodeJson, encodeJson } from './json-codec.js';

export type IncidentKind = 'rollback' | 'escalation';

/** A trigger signal as the report shows it: the value against its threshold, and how it was tested. */
export interface TriggerSignal {
  check: string;
  signal: string;
  status: string;
  reason: string;
  method: string;
  statistic: number;
  threshold: number;
  window: { from: string; to: string };
  counts: unknown;
  rates: unknown;
}

export interface MetricDiffRow {
  signal: RateSignalName;
  canary: { events: number; trials: number; rate: number | null };
  control: { events: number; trials: number; rate: number | null };
  /** canary − control, when both have trials. */
  difference: number | null;
}

export interface IncidentReport {
  id: string;
  kind: IncidentKind;
  upgradeId: string;
  rolloutId: string;
  tenantId: string;
  channel: string;
  groupId: string;
  candidateVersionId: string;
  stableVersionId: string;
  createdAt: string;
  reason: string;
  /** Phase and stage (1-based) the rollout was in when it was stopped. */
  stoppedAt: { phase: string; stage: number | null; canaryPercent: number | null };
  trigger: {
    verdict: string;
    signal: string | null;
    reason: string;
    at: string;
    evidence: TriggerSignal;
  } | null;
  /** Every check the guard ran at the trigger: the regressed ones first. */
  signals: TriggerSignal[];
  cohort: {
    tenants: string[];
    window: { from: string; to: string };
    canaryRequests: number;
    canaryFailedRequests: number;
    controlRequests: number;
    toolCallsChecked: number;
    toolCallsInvalid: number;
    invalidKinds: Record<string, number>;
    /** Sessions still on the candidate when they were cut (null when not known). */
    sessionsCut: number | null;
  };
  samples: FailingCallSample[];
  metricDiff: MetricDiffRow[];
  latency: LatencyWindow | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

function signalView(
  check: string,
  signal: string,
  status: string,
  reason: string,
  e: Evidence,
): TriggerSignal {
  return {
    check,
    signal,
    status,
    reason,
    method: e.method,
    statistic: e.statistic,
    threshold: e.threshold,
    window: { from: iso(e.window.fromMs), to: iso(e.window.toMs) },
    counts: e.counts,
    rates: e.rates,
  };
}

export interface IncidentInputs {
  id: string;
  kind: IncidentKind;
  upgradeId: string;
  rolloutId: string;
  tenantId: string;
  channel: string;
  groupId: string;
  candidateVersionId: string;
  stableVersionId: string;
  nowMs: number;
  reason: string;
  stoppedAt: IncidentReport['stoppedAt'];
  trigger: Decision | null;
  /** The buckets of the window the guard watched, for the cohort and the metric diff. */
  buckets: readonly RollupBucket[];
  window: { fromMs: number; toMs: number };
  latency: LatencyWindow | null;
  samples: FailingCallSample[];
  sessionsCut: number | null;
}

/** The report, from the guard's decision and the signal buckets of the window it watched. */
export function buildIncidentReport(inp: IncidentInputs): IncidentReport {
  let canary: CohortCounts = emptyCohort();
  let control: CohortCounts = emptyCohort();
  for (const b of inp.buckets) {
    canary = mergeCohorts(canary, b.canary);
    control = mergeCohorts(control, b.control);
  }
  const findings = [...(inp.trigger?.findings ?? [])].sort(
    (a, b) => Number(b.status === 'regressed') - Number(a.status === 'regressed'),
  );
  const t = inp.trigger;
  return {
    id: inp.id,
    kind: inp.kind,
    upgradeId: inp.upgradeId,
    rolloutId: inp.rolloutId,
    tenantId: inp.tenantId,
    channel: inp.channel,
    groupId: inp.groupId,
    candidateVersionId: inp.candidateVersionId,
    stableVersionId: inp.stableVersionId,
    createdAt: iso(inp.nowMs),
    reason: inp.reason,
    stoppedAt: inp.stoppedAt,
    trigger: t
      ? {
          verdict: t.verdict,
          signal: t.signal,
          reason: t.reason,
          at: iso(t.atMs),
          evidence: signalView(t.evidence.kind, t.signal ?? 'data', t.verdict, t.reason, t.evidence),
        }
      : null,
    signals: findings.map((f: Finding) => signalView(f.check, f.signal, f.status, f.reason, f.evidence)),
    cohort: {
      tenants: [inp.tenantId],
      window: { from: iso(inp.window.fromMs), to: iso(inp.window.toMs) },
      canaryRequests: canary.requests.trials,
      canaryFailedRequests: canary.requests.events,
      controlRequests: control.requests.trials,
      toolCallsChecked: canary.toolCalls.trials,
      toolCallsInvalid: canary.toolCalls.events,
      invalidKinds: { ...canary.toolFailureKinds },
      sessionsCut: inp.sessionsCut,
    },
    samples: inp.samples,
    metricDiff: RATE_SIGNALS.map((signal) => {
      const c = rateCounts(canary, signal);
      const s = rateCounts(control, signal);
      const cr = rateOf(c);
      const sr = rateOf(s);
      return {
        signal,
        canary: { ...c, rate: cr },
        control: { ...s, rate: sr },
        difference: cr === null || sr === null ? null : cr - sr,
      };
    }),
    latency: inp.latency,
  };
}

// ---- rendering ------------------------------------------------------------------------------

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
const pp = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} pp`);
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));
/** Markdown table cells: pipes and line breaks would break the table. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const json = (v: unknown) => JSON.stringify(v);

function summaryLines(r: IncidentReport): [string, string][] {
  return [
    ['Tenant', r.tenantId],
    ['Upgrade', `${r.upgradeId} (${r.channel}: ${r.stableVersionId} → ${r.candidateVersionId})`],
    ['Rollout group', r.groupId],
    [
      'Stopped at',
      `${r.stoppedAt.phase}${r.stoppedAt.stage === null ? '' : ` stage ${r.stoppedAt.stage}`}${
        r.stoppedAt.canaryPercent === null ? '' : ` (${r.stoppedAt.canaryPercent}% canary)`
      }`,
    ],
    ['Reason', r.reason],
    ['Created', r.createdAt],
  ];
}

export function renderIncidentMarkdown(r: IncidentReport): string {
  const lines: string[] = [`# Incident ${r.id}: ${r.kind} of ${r.tenantId}`, ''];
  for (const [k, v] of summaryLines(r)) lines.push(`- **${k}:** ${v}`);
  lines.push('', '## Trigger', '');
  if (r.trigger) {
    lines.push(
      `${r.trigger.reason}`,
      '',
      `- verdict: ${r.trigger.verdict}, signal: ${r.trigger.signal ?? 'data'}, at ${r.trigger.at}`,
      `- ${r.trigger.evidence.method}: statistic ${num(r.trigger.evidence.statistic)} against threshold ${num(r.trigger.evidence.threshold)}`,
    );
  } else lines.push('No guard trigger: the rollout was stopped by a person or by aborting the upgrade.');
  lines.push('', '## Signals', '');
  if (r.signals.length === 0) lines.push('No signal evaluations recorded.');
  else {
    lines.push(
      '| check | signal | status | statistic | threshold | method | reason |',
      '|---|---|---|---|---|---|---|',
    );
    for (const s of r.signals)
      lines.push(
        `| ${s.check} | ${s.signal} | ${s.status} | ${num(s.statistic)} | ${num(s.threshold)} | ${s.method} | ${cell(s.reason)} |`,
      );
  }
  const c = r.cohort;
  lines.push(
    '',
    '## Affected cohort',
    '',
    `- tenants: ${c.tenants.join(', ')}`,
    `- window: ${c.window.from} to ${c.window.to}`,
    `- canary requests: ${c.canaryRequests} (${c.canaryFailedRequests} failed); control requests: ${c.controlRequests}`,
    `- canary tool calls: ${c.toolCallsChecked} checked, ${c.toolCallsInvalid} invalid${
      Object.keys(c.invalidKinds).length
        ? ` (${Object.entries(c.invalidKinds)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ')})`
        : ''
    }`,
    `- sessions cut: ${c.sessionsCut ?? 'unknown'}`,
    '',
    '## Canary vs control',
    '',
    '| signal | canary | control | difference |',
    '|---|---|---|---|',
  );
  for (const m of r.metricDiff)
    lines.push(
      `| ${m.signal} | ${pct(m.canary.rate)} (${m.canary.events}/${m.canary.trials}) | ${pct(m.control.rate)} (${m.control.events}/${m.control.trials}) | ${pp(m.difference)} |`,
    );
  if (r.latency)
    lines.push(
      `| latency p50 | ${num(r.latency.canary.p50Ms)} ms | ${num(r.latency.control.p50Ms)} ms | |`,
      `| latency p99 | ${num(r.latency.canary.p99Ms)} ms | ${num(r.latency.control.p99Ms)} ms | |`,
    );
  lines.push('', '## Sample failing calls', '');
  if (r.samples.length === 0) lines.push('No samples were captured.');
  for (const s of r.samples) {
    lines.push(
      `- ${new Date(s.atMs).toISOString()} session ${s.sessionId ?? '?'} request ${s.requestId ?? '?'}: ${s.tool ?? '(no tool call)'} — ${s.problems.join('; ')}`,
      '',
      '  ```json',
      `  ${json(s.arguments)}`,
      '  ```',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function renderIncidentHtml(r: IncidentReport): string {
  const e = (s: unknown) => escapeHtml(String(s));
  const row = (cells: unknown[], tag = 'td') =>
    `<tr>${cells.map((x) => `<${tag}>${e(x)}</${tag}>`).join('')}</tr>`;
  const table = (head: string[], rows: unknown[][]) =>
    `<table><thead>${row(head, 'th')}</thead><tbody>${rows.map((x) => row(x)).join('')}</tbody></table>`;
  const c = r.cohort;
  const parts = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${e(`Incident ${r.id}`)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}pre{background:#f5f5f5;padding:.5rem;overflow:auto}.regressed{color:#b00}</style>',
    '</head><body>',
    `<h1>${e(`Incident ${r.id}: ${r.kind} of ${r.tenantId}`)}</h1>`,
    `<dl>${summaryLines(r)
      .map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`)
      .join('')}</dl>`,
    '<h2>Trigger</h2>',
    r.trigger
      ? `<p>${e(r.trigger.reason)}</p><p>${e(
          `verdict ${r.trigger.verdict}, signal ${r.trigger.signal ?? 'data'}, at ${r.trigger.at}; ${r.trigger.evidence.method}: statistic ${num(r.trigger.evidence.statistic)} against threshold ${num(r.trigger.evidence.threshold)}`,
        )}</p>`
      : '<p>No guard trigger: the rollout was stopped by a person or by aborting the upgrade.</p>',
    '<h2>Signals</h2>',
    table(
      ['check', 'signal', 'status', 'statistic', 'threshold', 'method', 'reason'],
      r.signals.map((s) => [
        s.check,
        s.signal,
        s.status,
        num(s.statistic),
        num(s.threshold),
        s.method,
        s.reason,
      ]),
    ),
    '<h2>Affected cohort</h2>',
    table(
      [
        'tenants',
        'window',
        'canary requests',
        'failed',
        'control requests',
        'tool calls checked',
        'invalid',
        'sessions cut',
      ],
      [
        [
          c.tenants.join(', '),
          `${c.window.from} to ${c.window.to}`,
          c.canaryRequests,
          c.canaryFailedRequests,
          c.controlRequests,
          c.toolCallsChecked,
          c.toolCallsInvalid,
          c.sessionsCut ?? 'unknown',
        ],
      ],
    ),
    '<h2>Canary vs control</h2>',
    table(
      ['signal', 'canary', 'control', 'difference'],
      r.metricDiff.map((m) => [
        m.signal,
        `${pct(m.canary.rate)} (${m.canary.events}/${m.canary.trials})`,
        `${pct(m.control.rate)} (${m.control.events}/${m.control.trials})`,
        pp(m.difference),
      ]),
    ),
    '<h2>Sample failing calls</h2>',
    r.samples.length === 0
      ? '<p>No samples were captured.</p>'
      : r.samples
          .map(
            (s) =>
              `<h3>${e(`${s.tool ?? '(no tool call)'} at ${new Date(s.atMs).toISOString()}`)}</h3><p>${e(
                `session ${s.sessionId ?? '?'}, request ${s.requestId ?? '?'}: ${s.problems.join('; ')}`,
              )}</p><pre>${e(JSON.stringify(s.arguments, null, 2))}</pre>`,
          )
          .join(''),
    '</body></html>',
  ];
  return `${parts.join('\n')}\n`;
}

// ---- storage ----------------------------------------------------------------------------------

export interface IncidentSummary {
  id: string;
  kind: IncidentKind;
  upgradeId: string;
  rolloutId: string;
  tenantId: string;
  channel: string;
  reason: string;
  createdAt: string;
}

export interface IncidentStore {
  /** Stores a report once: a second put of the same id (a re-applied step) changes nothing. */
  put(report: IncidentReport): Promise<boolean>;
  get(id: string): Promise<IncidentReport | undefined>;
  list(filter: { tenantId?: string; upgradeId?: string; limit: number }): Promise<IncidentSummary[]>;
}

interface IncidentRow {
  id: string;
  upgrade_id: string;
  rollout_id: string;
  tenant_id: string;
  channel: string;
  kind: IncidentKind;
  reason: string;
  created_at_ms: number | string;
  report: string;
}

export class SqlIncidentStore implements IncidentStore {
  constructor(private readonly db: SqlDatabase) {}

  async put(r: IncidentReport): Promise<boolean> {
    const res = await this.db.run(
      `INSERT INTO incidents (id, upgrade_id, rollout_id, tenant_id, channel, kind, reason, created_at_ms, report)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [
        r.id,
        r.upgradeId,
        r.rolloutId,
        r.tenantId,
        r.channel,
        r.kind,
        r.reason,
        Date.parse(r.createdAt),
        encodeJson(r),
      ],
    );
    return res.changes === 1;
  }

  async get(id: string): Promise<IncidentReport | undefined> {
    const row = await this.db.get<IncidentRow>('SELECT report FROM incidents WHERE id = ?', [id]);
    return row ? decodeJson<IncidentReport>(row.report) : undefined;
  }

  async list(filter: { tenantId?: string; upgradeId?: string; limit: number }): Promise<IncidentSummary[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.tenantId !== undefined) {
      where.push('tenant_id = ?');
      params.push(filter.tenantId);
    }
    if (filter.upgradeId !== undefined) {
      where.push('upgrade_id = ?');
      params.push(filter.upgradeId);
    }
    const rows = await this.db.all<IncidentRow>(
      `SELECT id, upgrade_id, rollout_id, tenant_id, channel, kind, reason, created_at_ms FROM incidents
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at_ms DESC, id LIMIT ?`,
      [...params, filter.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      upgradeId: r.upgrade_id,
      rolloutId: r.rollout_id,
      tenantId: r.tenant_id,
      channel: r.channel,
      reason: r.reason,
      createdAt: iso(Number(r.created_at_ms)),
    }));
  }
}
