import { ADMIN, ApiError, admin, setToken, token } from './api.js';
import { renderAudit } from './audit.js';
import { renderFleet } from './fleet.js';
import { html } from './html.js';
import { watch } from './live.js';
import { renderTenant } from './tenant.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
const liveBadge = document.getElementById('live');
const nav = document.getElementById('nav');

/** The session: who is signed in, the page shown, and the live stream. */
const session = { principal: null, page: null, stopLive: null, refreshing: null, again: false };

export function toast(message, kind = 'ok') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `toast ${kind}`;
  window.clearTimeout(toast.timer);
  toast.timer = window.setTimeout(() => {
    el.className = 'toast';
  }, 5000);
}

/** What this principal may do: mirrors the admin API's rules, so no button is shown in vain. */
export function can(p, action, tenantId) {
  if (!p) return false;
  switch (action) {
    case 'operate':
      return p.role === 'operator';
    case 'approve:platform':
      return p.role === 'approver';
    case 'approve:tenant':
      return p.role === 'tenant_contact' && p.tenantId === tenantId;
    default:
      return false;
  }
}

/** The party this principal approves for on this tenant, or null. */
export function partyOf(p, tenantId) {
  if (can(p, 'approve:platform', tenantId)) return 'platform';
  if (can(p, 'approve:tenant', tenantId)) return 'tenant';
  return null;
}

// ---- actions ----------------------------------------------------------------------------------

const ACTIONS = {
  approve: (d) => ({
    title: `Approve stage ${d.stage} of ${d.tenant} (${d.party})`,
    run: (reason) =>
      admin(`/upgrades/${encodeURIComponent(d.upgrade)}/approvals`, {
        method: 'POST',
        body: { tenantId: d.tenant, stage: Number(d.stage), ...(reason ? { reason } : {}) },
      }),
    done: `Stage ${d.stage} of ${d.tenant} approved (${d.party})`,
  }),
  reject: (d) => ({
    title: `Reject stage ${d.stage} of ${d.tenant} and roll it back (${d.party})`,
    danger: true,
    run: (reason) =>
      admin(`/upgrades/${encodeURIComponent(d.upgrade)}/rejections`, {
        method: 'POST',
        body: { tenantId: d.tenant, stage: Number(d.stage), ...(reason ? { reason } : {}) },
      }),
    done: `Stage ${d.stage} of ${d.tenant} rejected: rolling back`,
  }),
  'pause-tenant': (d) => tenantAction(d, 'pause', `Pause the rollout of ${d.tenant}`, `${d.tenant} paused`),
  'resume-tenant': (d) =>
    tenantAction(d, 'resume', `Resume the rollout of ${d.tenant}`, `${d.tenant} resumed`),
  'rollback-tenant': (d) => ({
    ...tenantAction(d, 'rollback', `Roll ${d.tenant} back to stable`, `${d.tenant} rolling back`),
    danger: true,
  }),
  'pause-upgrade': (d) =>
    upgradeAction(d, 'pause', `Pause upgrade ${d.upgrade} (every tenant holds)`, 'Upgrade paused'),
  'resume-upgrade': (d) => upgradeAction(d, 'resume', `Resume upgrade ${d.upgrade}`, 'Upgrade resumed'),
  'abort-upgrade': (d) => ({
    ...upgradeAction(
      d,
      'abort',
      `Abort upgrade ${d.upgrade}: every tenant with candidate traffic rolls back`,
      'Upgrade aborted: tenants roll back',
    ),
    danger: true,
  }),
};

function tenantAction(d, verb, title, done) {
  return {
    title,
    run: (reason) =>
      admin(`/upgrades/${encodeURIComponent(d.upgrade)}/${verb}`, {
        method: 'POST',
        body: { tenantId: d.tenant, ...(reason ? { reason } : {}) },
      }),
    done,
  };
}

function upgradeAction(d, verb, title, done) {
  return {
    title,
    run: (reason) =>
      admin(`/upgrades/${encodeURIComponent(d.upgrade)}/${verb}`, {
        method: 'POST',
        body: reason ? { reason } : {},
      }),
    done,
  };
}

const dialog = document.getElementById('confirm');
const dialogTitle = document.getElementById('confirm-title');
const dialogReason = document.getElementById('confirm-reason');
const dialogOk = document.getElementById('confirm-ok');
const dialogError = document.getElementById('confirm-error');
let pending = null;

function openAction(name, data) {
  const make = ACTIONS[name];
  if (!make) return;
  pending = make(data);
  dialogTitle.textContent = pending.title;
  dialogReason.value = '';
  dialogError.textContent = '';
  dialogOk.className = pending.danger ? 'danger' : 'primary';
  dialog.showModal();
  dialogReason.focus();
}

dialog.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (e.submitter?.value === 'cancel') {
    dialog.close();
    return;
  }
  if (!pending) return;
  dialogOk.disabled = true;
  try {
    await pending.run(dialogReason.value.trim());
    dialog.close();
    toast(pending.done);
    await refresh();
  } catch (err) {
    dialogError.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
  } finally {
    dialogOk.disabled = false;
  }
});

document.addEventListener('click', (e) => {
  const el = e.target.closest('[data-action]');
  if (!el) return;
  e.preventDefault();
  openAction(el.dataset.action, { ...el.dataset });
});

// ---- pages ----------------------------------------------------------------------------------

function route() {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const tenant = /^\/tenants\/([^/]+)$/.exec(hash);
  if (tenant) return { name: 'tenant', tenantId: decodeURIComponent(tenant[1]) };
  if (hash === '/audit') return { name: 'audit' };
  return { name: 'fleet' };
}

async function show() {
  const r = route();
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === r.name);
  const ctx = { principal: session.principal, main, can, partyOf, toast };
  if (r.name === 'tenant') session.page = await renderTenant(ctx, r.tenantId);
  else if (r.name === 'audit') session.page = await renderAudit(ctx);
  else session.page = await renderFleet(ctx);
}

/** Re-reads the page's data; calls that arrive while one runs are folded into one more. */
async function refresh() {
  if (session.refreshing) {
    session.again = true;
    return session.refreshing;
  }
  session.refreshing = (async () => {
    do {
      session.again = false;
      try {
        await session.page?.refresh();
      } catch (err) {
        handleError(err);
      }
    } while (session.again);
  })().finally(() => {
    session.refreshing = null;
  });
  return session.refreshing;
}

function handleError(err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut('Your token is no longer valid; sign in again.');
    return;
  }
  main.innerHTML = html`<section class="panel error"><h2>Could not load this page</h2>
    <p>${err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)}</p></section>`.text;
}

function signInPage(message) {
  who.textContent = '';
  nav.hidden = true;
  liveBadge.hidden = true;
  main.innerHTML = html`<section class="panel signin">
    <h2>Sign in</h2>
    <p>Paste an admin token (<code>switchyard tokens create --role ...</code>). It is kept in this
      tab only (sessionStorage) and sent to the admin API as <code>Authorization: Bearer</code>.</p>
    ${message ? html`<p class="error">${message}</p>` : ''}
    <form id="signin">
      <label>Admin token <input id="token" type="password" autocomplete="off" required></label>
      <button class="primary" type="submit">Sign in</button>
    </form>
  </section>`.text;
  document.getElementById('signin').addEventListener('submit', async (e) => {
    e.preventDefault();
    setToken(document.getElementById('token').value.trim());
    await start();
  });
}

function signOut(message) {
  session.stopLive?.();
  session.stopLive = null;
  session.principal = null;
  session.page = null;
  setToken(null);
  signInPage(message);
}

async function start() {
  if (!token()) return signInPage();
  try {
    session.principal = await admin('/whoami');
  } catch (err) {
    return signOut(
      err instanceof ApiError && err.status === 401 ? 'That token was not accepted.' : String(err),
    );
  }
  const p = session.principal;
  who.innerHTML = html`<span class="role role-${p.role}">${p.role.replace('_', ' ')}</span>
    <span class="actor">${p.actor.replace(/^token:[^/]*\//, '')}${p.tenantId ? ` · ${p.tenantId}` : ''}</span>
    <button id="signout" class="link">Sign out</button>`.text;
  document.getElementById('signout').addEventListener('click', () => signOut());
  nav.hidden = false;
  liveBadge.hidden = false;
  try {
    await show();
  } catch (err) {
    handleError(err);
  }
  session.stopLive?.();
  session.stopLive = watch(() => refresh(), {
    known: () => session.page?.revision() ?? null,
    onStatus: (s) => {
      liveBadge.textContent = s === 'live' ? '● live' : '○ reconnecting';
      liveBadge.className = `live ${s}`;
    },
  });
}

window.addEventListener('hashchange', () => {
  if (session.principal) show().catch(handleError);
});

document.getElementById('admin-api').href = `${ADMIN}/openapi.json`;
start();
