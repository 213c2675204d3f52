import { admin, dash, enc, hasOperation } from './api.js';
import { lineChart } from './charts.js';
import { approvalButtons, partiesOf, phaseBadge } from './fleet.js';
import { html, ms, pct, shortTime, since } from './html.js';

const MINUTE = 60_000;
/** Chart windows: span and step, each giving 60 to 96 points. */
const WINDOWS = {
  '1h': { span: 60 * MINUTE, step: '1m' },
  '6h': { span: 360 * MINUTE, step: '5m' },
  '24h': { span: 1440 * MINUTE, step: '15m' },
  '3d': { span: 3 * 1440 * MINUTE, step: '1h' },
  '7d': { span: 7 * 1440 * MINUTE, step: '2h' },
};

const ratio = (a, b) => (b > 0 ? a / b : null);

/** Points of one cohort (every version of it) on one channel, summed per step. */
function cohortPoints(metrics, channel, cohort) {
  const byStart = new Map();
  for (const s of metrics.series) {
    if (s.channel !== channel || s.cohort !== cohort) continue;
    for (const p of s.points) {
      const t = Date.parse(p.start);
      const acc = byStart.get(t) ?? {
        t,
        requests: 0,
        errors: 0,
        checked: 0,
        invalid: 0,
        coerced: 0,
        reported: 0,
        failed: 0,
        judgeN: 0,
        judgeSum: 0,
        latency: null,
      };
      acc.requests += p.requests;
      acc.errors += p.errors;
      acc.checked += p.toolCalls.checked;
      acc.invalid += p.toolCalls.invalid;
      acc.coerced += p.toolCalls.coerced;
      acc.reported += p.tasks.reported;
      acc.failed += p.tasks.failed;
      if (p.judge.n > 0) {
        acc.judgeN += p.judge.n;
        acc.judgeSum += p.judge.mean * p.judge.n;
      }
      // Quantiles do not add up: keep those of the version that served most of the step.
      if (p.latencyMs.count > 0 && (!acc.latency || p.latencyMs.count > acc.latency.count))
        acc.latency = p.latencyMs;
      byStart.set(t, acc);
    }
  }
  return [...byStart.values()].sort((a, b) => a.t - b.t);
}

const SIGNALS = [
  { title: 'Tool-call failure rate', v: (p) => ratio(p.invalid, p.checked), format: (x) => pct(x) },
  { title: 'Coercion rate', v: (p) => ratio(p.coerced, p.checked), format: (x) => pct(x) },
  { title: 'Error rate', v: (p) => ratio(p.errors, p.requests), format: (x) => pct(x) },
  { title: 'Task failure rate', v: (p) => ratio(p.failed, p.reported), format: (x) => pct(x) },
  { title: 'Latency p50', v: (p) => p.latency?.p50 ?? null, format: (x) => ms(x) },
  { title: 'Latency p99', v: (p) => p.latency?.p99 ?? null, format: (x) => ms(x) },
];

function charts(metrics, channel, fromMs, toMs) {
  const canary = cohortPoints(metrics, channel, 'canary');
  const control = cohortPoints(metrics, channel, 'stable');
  const shadow = cohortPoints(metrics, channel, 'shadow');
  const out = SIGNALS.map((s) =>
    lineChart({
      title: s.title,
      format: s.format,
      fromMs,
      toMs,
      series: [
        { name: 'canary', cls: 'canary', points: canary.map((p) => ({ t: p.t, v: s.v(p) })) },
        { name: 'control', cls: 'control', points: control.map((p) => ({ t: p.t, v: s.v(p) })) },
      ],
    }),
  );
  const judge = (p) => (p.judgeN > 0 ? p.judgeSum / p.judgeN : null);
  out.splice(
    4,
    0,
    lineChart({
      title: 'Judge similarity (candidate vs stable)',
      format: (x) => x.toFixed(2),
      fromMs,
      toMs,
      yMax: 1,
      series: [
        { name: 'canary', cls: 'canary', points: canary.map((p) => ({ t: p.t, v: judge(p) })) },
        { name: 'shadow', cls: 'judge', points: shadow.map((p) => ({ t: p.t, v: judge(p) })) },
      ],
    }),
  );
  return out;
}

function stagesBar(group, ro) {
  if (!group || !ro) return '';
  const plan = group.plan;
  const order = ['gating', 'shadow', ...plan.stages.map((_, i) => `stage:${i + 1}`), 'complete'];
  const at =
    ro.phase === 'canary' || ro.phase === 'awaiting_approval'
      ? `stage:${ro.stage}`
      : ro.phase === 'pending'
        ? 'gating'
        : ro.phase;
  const idx = order.indexOf(at);
  const label = (k) =>
    k === 'gating'
      ? 'BETS gate'
      : k === 'shadow'
        ? `shadow ${plan.shadowHours} h`
        : k === 'complete'
          ? 'complete'
          : `${plan.stages[Number(k.slice(6)) - 1].percent}%${plan.stages[Number(k.slice(6)) - 1].approvals.length ? ' · approvals' : ''}`;
  return html`<div class="stages">${order.map(
    (k, i) =>
      html`<span class="${i < idx || ro.phase === 'complete' ? 'done' : i === idx ? 'now' : ''}">${label(k)}</span>`,
  )}</div>`;
}

function timeline(events) {
  if (events.length === 0) return html`<p class="muted">No history yet.</p>`;
  return html`<ol class="timeline" id="timeline">${events.map((e) => {
    const kind =
      e.actor === 'controller' ? (e.action === 'transition' ? 'transition' : 'controller') : 'person';
    return html`<li class="${kind}"><time>${shortTime(new Date(e.atMs).toISOString())}</time>
      <strong>${e.action}</strong> <span class="muted">${e.actor.replace(/^token:[^/]*\//, '')}</span>
      ${e.detail ? html`<div>${e.detail}</div>` : ''}</li>`;
  })}</ol>`;
}

function rolloutPanel(ctx, d, entry, canRollback) {
  if (!entry)
    return html`<section class="panel"><h2>Rollout</h2><p class="muted">No upgrade has touched this tenant.</p></section>`;
  const { upgrade: u, rollout: ro } = entry;
  const operate = ctx.can(ctx.principal, 'operate');
  const active = !['blocked', 'rolled_back', 'complete', 'rolling_back', 'skipped'].includes(ro.phase);
  const btn = (action, label, cls = 'small') =>
    html`<button class="${cls}" data-action="${action}" data-upgrade="${u.id}" data-tenant="${d.tenant.id}">${label}</button>`;
  return html`<section class="panel" id="rollout" data-phase="${ro.phase}">
    <h2>Rollout ${phaseBadge(ro)}</h2>
    <dl class="kv">
      <dt>upgrade</dt><dd>${u.channel}: ${u.fromVersionId} → ${u.toVersionId} (${u.state})</dd>
      <dt>since</dt><dd>${shortTime(ro.phaseSince)} (${since(ro.phaseSince, d.generatedAt)})</dd>
      ${ro.reason ? html`<dt>reason</dt><dd>${ro.reason}</dd>` : ''}
      ${ro.guard ? html`<dt>guard</dt><dd>${ro.guard.verdict}: ${ro.guard.reason}</dd>` : ''}
    </dl>
    ${stagesBar(d.group, ro)}
    ${
      ro.approval
        ? html`<div id="approval">Stage ${ro.approval.stage} waits for: ${partiesOf(ro.approval)}
            ${approvalButtons(ctx, d.tenant.id, u.id, ro.approval)}</div>`
        : ''
    }
    ${
      operate && active
        ? html`<div class="actions">
            ${ro.phase === 'paused' ? btn('resume-tenant', 'Resume') : btn('pause-tenant', 'Pause')}
            ${canRollback ? btn('rollback-tenant', 'Roll back', 'small danger') : ''}
          </div>`
        : ''
    }
    <h3>Timeline</h3>
    ${timeline(entry.events)}
  </section>`;
}

function betsPanel(d, reports) {
  const v = d.verdicts;
  return html`<section class="panel" id="bets"><h2>BETS results</h2>
    ${
      v.length === 0
        ? html`<p class="muted">No verdict yet.</p>`
        : html`<table><thead><tr><th>candidate</th><th>outcome</th><th>pass rates</th><th>reasons</th><th>decided</th></tr></thead>
          <tbody>${v.map(
            (
              x,
            ) => html`<tr><td>${x.candidateVersionId}</td><td class="${x.outcome === 'fail' ? 'error' : ''}">${x.outcome}</td>
              <td>${x.kinds.map((k) => html`<div class="${k.ok ? '' : 'error'}">${k.kind} ${pct(k.rate)} (≥ ${pct(k.threshold, 0)}, ${k.passed}/${k.total})</div>`)}</td>
              <td>${x.reasons.join('; ')}</td><td class="muted">${shortTime(x.decidedAt)}</td></tr>`,
          )}</tbody></table>`
    }
    ${reports.map(
      (r) => html`<h3>Failing cases of run ${r.run.id} (${r.run.workflow}, ${r.cases.length} not passed)</h3>
        <table class="cases"><thead><tr><th>case</th><th>status</th><th>expected</th><th>got</th></tr></thead><tbody>
        ${r.cases.slice(0, 25).map(
          (c) => html`<tr><td>${c.caseId}</td><td class="error">${c.status}</td>
            <td>${c.expected.assertions.map((a) => html`<div>${a}</div>`)}</td>
            <td>${c.got.problems.map((p) => html`<div>${p}</div>`)}${
              c.got.answer
                ? html`<pre class="small">${JSON.stringify(c.got.answer.toolCalls.length ? c.got.answer.toolCalls.map((t) => ({ name: t.name, arguments: t.arguments })) : c.got.answer.text, null, 1)}</pre>`
                : ''
            }</td></tr>`,
        )}</tbody></table>`,
    )}
  </section>`;
}

function driftPanel(drift) {
  if (drift.error)
    return html`<section class="panel" id="drift"><h2>Drift profile</h2><p class="muted">${drift.error}</p></section>`;
  return html`<section class="panel" id="drift"><h2>Drift profile</h2>
    ${
      drift.items.length === 0
        ? html`<p class="muted">No shadow or canary pairs compared yet.</p>`
        : drift.items.map((d) => {
            const kinds = Object.entries(d.rates.kinds).filter(([, r]) => r > 0);
            const tools = Object.entries(d.rates.tools);
            return html`<h3>${d.channel}: ${d.stableVersionId} → ${d.candidateVersionId}</h3>
              <p>${d.profile.pairs} pairs compared, ${pct(d.rates.drift)} with drift.</p>
              ${kinds.length ? html`<table><thead><tr><th>drift kind</th><th>share of pairs</th></tr></thead><tbody>${kinds.map(([k, r]) => html`<tr><td>${k}</td><td class="num">${pct(r)}</td></tr>`)}</tbody></table>` : ''}
              ${
                tools.length
                  ? html`<table><thead><tr><th>tool</th><th>pairs</th><th>drift kinds</th></tr></thead><tbody>${tools.map(
                      ([name, t]) =>
                        html`<tr><td>${name}</td><td class="num">${t.pairs}</td><td>${Object.entries(t.kinds)
                          .filter(([, r]) => r > 0)
                          .map(([k, r]) => `${k} ${pct(r)}`)
                          .join(', ')}</td></tr>`,
                    )}</tbody></table>`
                  : ''
              }`;
          })
    }</section>`;
}

function incidentsPanel(incidents) {
  if (incidents.error)
    return html`<section class="panel" id="incidents"><h2>Incident reports</h2><p class="muted">${incidents.error}</p></section>`;
  return html`<section class="panel" id="incidents"><h2>Incident reports</h2>
    ${
      incidents.items.length === 0
        ? html`<p class="muted">No incident.</p>`
        : html`<ul>${incidents.items.map(
            (
              i,
            ) => html`<li data-incident="${i.id}">${shortTime(i.createdAt)} <strong>${i.kind}</strong> ${i.reason}
              <button class="small" data-report="${i.id}">View report</button>
              <button class="small" data-report-tab="${i.id}">Open in a new tab</button></li>`,
          )}</ul><div id="report-frame"></div>`
    }</section>`;
}

function auditPanel(audit) {
  if (audit.error) return '';
  return html`<section class="panel" id="tenant-audit"><h2>Registry changes</h2>
    <table><thead><tr><th>when</th><th>who</th><th>what</th><th>record</th><th>why</th></tr></thead><tbody>
    ${audit.items.map(
      (a) =>
        html`<tr><td class="muted">${shortTime(a.at)}</td><td>${a.actor.replace(/^token:[^/]*\//, '')}</td><td>${a.action}</td><td>${a.entityId}</td><td>${a.reason ?? ''}</td></tr>`,
    )}</tbody></table><p><a href="#/audit">Whole audit log</a></p></section>`;
}

const settle = (promise) => promise.catch((e) => ({ error: `unavailable: ${e.code ?? ''} ${e.message}` }));

/** One tenant: its rollout and timeline, canary-vs-control signals, BETS, drift, incidents. */
export async function renderTenant(ctx, tenantId) {
  let detail = null;
  let windowKey = '6h';
  const canRollback = await hasOperation('post', '/upgrades/{id}/rollback');

  async function load() {
    const d = await dash(`tenants/${enc(tenantId)}`);
    const toMs = Math.floor(Date.parse(d.generatedAt) / MINUTE) * MINUTE;
    const w = WINDOWS[windowKey];
    const fromMs = toMs - w.span;
    const q = `from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&step=${w.step}`;
    const failing = d.verdicts.find((v) => v.outcome === 'fail');
    const [metrics, drift, incidents, audit, reports] = await Promise.all([
      settle(admin(`/tenants/${enc(tenantId)}/metrics?${q}`)),
      settle(admin(`/tenants/${enc(tenantId)}/drift`)),
      // No `limit`: the incidents route types it as an integer, which a query string cannot carry.
      settle(admin(`/incidents?tenantId=${enc(tenantId)}`)),
      settle(admin(`/audit?tenantId=${enc(tenantId)}&limit=20`)),
      failing
        ? Promise.all(
            failing.runIds
              .slice(0, 3)
              .map((id) => settle(admin(`/tenants/${enc(tenantId)}/bets/runs/${enc(id)}/report`))),
          )
        : Promise.resolve([]),
    ]);
    return { d, metrics, drift, incidents, audit, reports: reports.filter((r) => !r.error), fromMs, toMs };
  }

  function draw({ d, metrics, drift, incidents, audit, reports, fromMs, toMs }) {
    detail = d;
    const t = d.tenant;
    const entry = d.rollouts[0] ?? null;
    const channel = entry?.rollout ? entry.upgrade.channel : d.bindings[0]?.channel;
    const b = d.bindings.find((x) => x.channel === channel);
    ctx.main.innerHTML = html`
      <p><a href="#/">← Fleet</a></p>
      <section class="panel" id="tenant" data-tenant="${t.id}">
        <h2>${t.name} <span class="muted">${t.id}</span></h2>
        <dl class="kv">
          <dt>group</dt><dd>${d.group ? `${d.group.name} (${d.group.id})` : t.rolloutGroup}</dd>
          <dt>criticality</dt><dd>${t.riskProfile.criticality}</dd>
          <dt>on regression</dt><dd>${t.actionPolicy}</dd>
          <dt>invalid tool calls</dt><dd>${t.failurePolicy}</dd>
          ${t.frozen ? html`<dt>frozen</dt><dd>yes: upgrades skip it</dd>` : ''}
          ${d.bindings.map(
            (x) =>
              html`<dt>${x.channel}</dt><dd>stable ${x.stableVersionId}${x.candidateVersionId ? html`, candidate ${x.candidateVersionId} at ${x.canaryPercent}% canary, ${x.shadowPercent}% shadow` : ''}${x.pinned ? ' (pinned by contract)' : ''}</dd>`,
          )}
          <dt>contacts</dt><dd>${t.contacts.map((c) => `${c.name} <${c.email}>`).join(', ') || '–'}</dd>
        </dl>
      </section>
      ${rolloutPanel(ctx, d, entry, canRollback)}
      <section class="panel" id="signals"><h2>Signals: canary vs control ${b ? html`<span class="muted">(${b.channel})</span>` : ''}</h2>
        <div class="filters">window ${Object.keys(WINDOWS).map(
          (k) =>
            html`<button class="small ${k === windowKey ? 'primary' : ''}" data-window="${k}">${k}</button>`,
        )}</div>
        ${
          metrics.error || !channel
            ? html`<p class="muted">${metrics.error ?? 'No channel binding.'}</p>`
            : html`<div class="grid2">${charts(metrics, channel, fromMs, toMs)}</div>`
        }
      </section>
      ${betsPanel(d, reports)}
      ${driftPanel(drift)}
      ${incidentsPanel(incidents)}
      ${auditPanel(audit)}
      ${
        d.rollouts.length > 1
          ? html`<section class="panel"><h2>Earlier upgrades</h2><ul>${d.rollouts
              .slice(1)
              .map(
                (e) =>
                  html`<li>${e.upgrade.fromVersionId} → ${e.upgrade.toVersionId}: ${phaseBadge(e.rollout)} ${e.rollout.reason ?? ''}</li>`,
              )}</ul></section>`
          : ''
      }`.text;
    for (const el of ctx.main.querySelectorAll('[data-window]')) {
      el.addEventListener('click', async () => {
        windowKey = el.dataset.window;
        await refresh();
      });
    }
    for (const el of ctx.main.querySelectorAll('[data-report]')) {
      el.addEventListener('click', () => showReport(el.dataset.report));
    }
    for (const el of ctx.main.querySelectorAll('[data-report-tab]')) {
      el.addEventListener('click', () => openReport(el.dataset.reportTab));
    }
  }

  /** The incident's HTML rendering, in a sandboxed frame (no scripts, no same-origin access). */
  async function showReport(id) {
    const body = await admin(`/incidents/${enc(id)}?format=html`, { accept: 'text/html' });
    const frame = document.createElement('iframe');
    frame.className = 'report';
    frame.setAttribute('sandbox', '');
    frame.title = `incident ${id}`;
    frame.srcdoc = body;
    document.getElementById('report-frame').replaceChildren(frame);
  }

  async function openReport(id) {
    const tab = window.open('', '_blank');
    const body = await admin(`/incidents/${enc(id)}?format=html`, { accept: 'text/html' });
    const url = URL.createObjectURL(new Blob([body], { type: 'text/html' }));
    if (tab) tab.location.href = url;
    window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  async function refresh() {
    draw(await load());
  }
  await refresh();
  return { refresh, revision: () => detail?.revision ?? null };
}
