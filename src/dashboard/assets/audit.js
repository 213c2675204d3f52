import { admin, enc } from './api.js';
import { html, shortTime } from './html.js';

const KINDS = [
  'tenant',
  'api_key',
  'model_version',
  'tenant_channel',
  'contract',
  'rollout_group',
  'admin_token',
];
const PAGE = 100;

/** The audit log (GET /admin/v1/audit), newest first, filtered and paged; scoped by the API. */
export async function renderAudit(ctx) {
  const filters = { tenantId: '', entityKind: '' };
  let pages = [];
  let openSeq = null;

  function query(before) {
    const q = [`limit=${PAGE}`];
    if (filters.tenantId) q.push(`tenantId=${enc(filters.tenantId)}`);
    if (filters.entityKind) q.push(`entityKind=${enc(filters.entityKind)}`);
    if (before !== undefined) q.push(`before=${before}`);
    return `/audit?${q.join('&')}`;
  }

  function draw() {
    const items = pages.flat();
    const last = pages[pages.length - 1] ?? [];
    const contact = ctx.principal.role === 'tenant_contact';
    ctx.main.innerHTML = html`<section class="panel" id="audit"><h2>Audit log</h2>
      <div class="filters">
        ${contact ? '' : html`<input id="a-tenant" placeholder="tenant id" value="${filters.tenantId}">`}
        <select id="a-kind"><option value="">every record kind</option>${KINDS.map(
          (k) => html`<option value="${k}" ${filters.entityKind === k ? 'selected' : ''}>${k}</option>`,
        )}</select>
        <button id="a-apply" class="small">Apply</button>
      </div>
      <table><thead><tr><th>#</th><th>when</th><th>who</th><th>what</th><th>record</th><th>tenant</th><th>why</th></tr></thead>
      <tbody>${items.map(
        (
          a,
        ) => html`<tr data-seq="${a.seq}" class="audit-row"><td class="muted">${a.seq}</td><td class="muted">${shortTime(a.at)}</td>
          <td>${a.actor.replace(/^token:[^/]*\//, '')}</td><td>${a.action}</td><td>${a.entityId}</td><td>${a.tenantId ?? ''}</td>
          <td>${a.reason ?? ''}${a.revertsId ? html` <span class="muted">(reverts ${a.revertsId})</span>` : ''}</td></tr>
          ${openSeq === a.seq ? html`<tr><td colspan="7"><pre class="small">${JSON.stringify({ before: a.before, after: a.after }, null, 1)}</pre></td></tr>` : ''}`,
      )}</tbody></table>
      ${last.length === PAGE ? html`<p><button id="a-more" class="small">Older entries</button></p>` : ''}
      ${items.length === 0 ? html`<p class="muted">No entries.</p>` : ''}
    </section>`.text;
    document.getElementById('a-apply').addEventListener('click', async () => {
      filters.tenantId = document.getElementById('a-tenant')?.value.trim() ?? '';
      filters.entityKind = document.getElementById('a-kind').value;
      await refresh();
    });
    document.getElementById('a-more')?.addEventListener('click', async () => {
      const oldest = last[last.length - 1];
      pages.push((await admin(query(oldest.seq))).items);
      draw();
    });
    for (const tr of ctx.main.querySelectorAll('tr.audit-row')) {
      tr.addEventListener('click', () => {
        const seq = Number(tr.dataset.seq);
        openSeq = openSeq === seq ? null : seq;
        draw();
      });
    }
  }

  async function refresh() {
    pages = [(await admin(query())).items];
    draw();
  }
  await refresh();
  // The log is not part of the fleet revision; it refreshes with the page's other live updates.
  return { refresh, revision: () => null };
}
