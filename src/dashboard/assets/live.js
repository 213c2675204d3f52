import { BASE, token } from './api.js';

/**
 * Live updates: the dashboard's Server-Sent Events stream, read with fetch (EventSource cannot
 * send the Authorization header, and the token must not go into a URL). Each `revision` event
 * names the state of what this user may see; `onChange` runs when it moves and differs from the
 * revision the page shows (`known`).
 * A broken stream is reopened after a growing pause (1 s to 30 s); while it is down, `onChange`
 * is also called every `pollMs` so the page keeps refreshing.
 */
export function watch(onChange, { known = () => null, pollMs = 5000, onStatus = () => {} } = {}) {
  let stopped = false;
  let controller = null;
  let last = null;
  let pollTimer = null;
  let backoff = 1000;

  const startPolling = () => {
    if (!pollTimer) pollTimer = window.setInterval(() => onChange(null), pollMs);
  };
  const stopPolling = () => {
    if (pollTimer) window.clearInterval(pollTimer);
    pollTimer = null;
  };

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(`${BASE}api/stream`, {
          headers: { authorization: `Bearer ${token() ?? ''}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
        onStatus('live');
        stopPolling();
        backoff = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            handle(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        }
      } catch (e) {
        if (stopped) return;
        if (e?.name === 'AbortError') return;
      }
      if (stopped) return;
      onStatus('reconnecting');
      startPolling();
      await new Promise((r) => window.setTimeout(r, backoff));
      backoff = Math.min(30_000, backoff * 2);
    }
  }

  function handle(block) {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (event !== 'revision' || !data) return;
    const { revision } = JSON.parse(data);
    // Changed since the last event, and not what the page already shows.
    if (revision !== last) {
      last = revision;
      if (revision !== known()) onChange(revision);
    }
  }

  connect();
  return () => {
    stopped = true;
    stopPolling();
    controller?.abort();
  };
}
