/**
 * The benchmark's load generator, a child process pinned to its own core. Receives a job over
 * IPC, runs it (warm-up, then measurement) and answers with latency and TTFB samples' summary.
 * Open loop at a fixed rate (requests are sent on schedule whether or not earlier ones have
 * finished), or closed loop with N concurrent clients to find saturation. Keep-alive pool.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadJob {
  origin: string;
  path: string;
  /** Request bodies, used round robin; one per session. */
  bodies: string[];
  /** Headers per body (session ids differ). */
  headers: Array<Record<string, string>>;
  stream: boolean;
  /** Requests per second (open loop); absent: closed loop with `concurrency` clients. */
  rate?: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  sent: number;
  completed: number;
  errors: number;
  errorSamples: string[];
  rps: number;
  latency: Percentiles;
  ttfb: Percentiles;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentiles(samples: number[]): Percentiles {
  const s = Float64Array.from(samples).sort();
  const at = (q: number) =>
    s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.length ? (s[s.length - 1] ?? 0) : Number.NaN };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const pool = new Pool(job.origin, {
    connections: job.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const latency: number[] = [];
  const ttfb: number[] = [];
  const errorSamples: string[] = [];
  let recording = false;
  let seq = 0;
  let sent = 0;
  let completed = 0;
  let errors = 0;

  const one = async (i: number): Promise<void> => {
    const n = i % job.bodies.length;
    const t0 = performance.now();
    try {
      const res = await pool.request({
        path: job.path,
        method: 'POST',
        headers: job.headers[n],
        body: job.bodies[n],
      });
      let first = -1;
      let tail = '';
      for await (const chunk of res.body) {
        if (first < 0) first = performance.now();
        tail = (tail + (chunk as Buffer).toString('latin1')).slice(-64);
      }
      const t1 = performance.now();
      const ok = res.statusCode === 200 && (!job.stream || tail.includes('[DONE]'));
      if (!recording) return;
      if (!ok) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${res.statusCode} ${tail}`);
        return;
      }
      completed++;
      latency.push(t1 - t0);
      ttfb.push(first - t0);
    } catch (e) {
      if (!recording) return;
      errors++;
      if (errorSamples.length < 5) errorSamples.push(String(e));
    }
  };

  const phase = async (ms: number): Promise<void> => {
    const end = performance.now() + ms;
    if (job.rate) {
      const rate = job.rate;
      const start = performance.now();
      const inflight = new Set<Promise<void>>();
      let scheduled = 0;
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const now = performance.now();
          const due = Math.min(Math.floor(((now - start) / 1000) * rate), Math.floor((ms / 1000) * rate));
          while (scheduled < due) {
            scheduled++;
            if (recording) sent++;
            const p = one(seq++);
            inflight.add(p);
            void p.finally(() => inflight.delete(p));
          }
          if (now >= end) {
            clearInterval(tick);
            resolve();
          }
        }, 1);
      });
      await Promise.all(inflight);
    } else {
      const client = async () => {
        while (performance.now() < end) {
          if (recording) sent++;
          await one(seq++);
        }
      };
      await Promise.all(Array.from({ length: job.concurrency }, client));
    }
  };

  await phase(job.warmupMs);
  recording = true;
  process.send?.({ type: 'measuring' });
  const t0 = performance.now();
  await phase(job.durationMs);
  const elapsed = (performance.now() - t0) / 1000;
  recording = false;
  await pool.close();
  return {
    sent,
    completed,
    errors,
    errorSamples,
    rps: completed / elapsed,
    latency: percentiles(latency),
    ttfb: percentiles(ttfb),
  };
}

process.on('message', (job: LoadJob) => {
  void run(job).then((result) => process.send?.({ type: 'result', result }));
});
process.on('disconnect', () => process.exit(0));
