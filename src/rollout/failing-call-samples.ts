import type { InvalidToolCall } from '../contracts/tool-call-validator.js';
import type { SqlDatabase } from '../storage/sql-database.js';

/** One tool call (or answer) of the candidate that failed, as the incident report shows it. */
export interface FailingCallSample {
  atMs: number;
  sessionId: string | null;
  requestId: string | null;
  /** The tool the model called, or null for a failed answer without a tool call. */
  tool: string | null;
  /** The arguments the model sent (parsed JSON when they parsed, else the raw text). */
  arguments: unknown;
  /** Why it failed: the contract violations, an upstream error, or how it differed from stable. */
  problems: string[];
}

/**
 * Where the incident report gets sample failing calls of a tenant on a version (port). The
 * gateway's checked tool calls feed `BoundedFailingCallSampler`; shadow pairs in the database are
 * read by `ShadowFailingCallSamples`. `sample` returns the newest first, at most `limit`.
 */
export interface FailingCallSamples {
  sample(tenantId: string, versionId: string, limit: number): Promise<FailingCallSample[]>;
}

/** A tool call that broke the tenant's contract, as an incident report shows it. */
export function sampleOfInvalidCall(
  call: InvalidToolCall,
  requestId: string,
  atMs: number,
): FailingCallSample {
  const problems =
    call.kind === 'schema_violation'
      ? call.violations.map((v) => `${v.path || '/'}: expected ${v.expected}, got ${v.got}`)
      : call.kind === 'unknown_tool'
        ? [`unknown tool '${call.tool}' (the contracts know: ${call.knownTools.join(', ')})`]
        : [call.detail];
  return {
    atMs,
    sessionId: null,
    requestId,
    tool: call.tool,
    arguments: call.kind === 'schema_violation' ? call.arguments : null,
    problems,
  };
}

/**
 * Keeps the newest failing calls per (tenant, version) in memory, bounded per key and in keys
 * (the least recently fed key is forgotten first), so feeding it from the request path costs a
 * push. Arguments are cut to `maxArgumentChars` so one huge payload cannot hold memory.
 */
export class BoundedFailingCallSampler implements FailingCallSamples {
  private readonly byKey = new Map<string, FailingCallSample[]>();

  constructor(
    private readonly opts: { perKey: number; maxKeys: number; maxArgumentChars: number } = {
      perKey: 20,
      maxKeys: 2_000,
      maxArgumentChars: 4_000,
    },
  ) {}

  record(tenantId: string, versionId: string, sample: FailingCallSample): void {
    const key = `${tenantId}\u0000${versionId}`;
    const list = this.byKey.get(key) ?? [];
    this.byKey.delete(key);
    list.push({ ...sample, arguments: this.bounded(sample.arguments) });
    if (list.length > this.opts.perKey) list.splice(0, list.length - this.opts.perKey);
    this.byKey.set(key, list);
    if (this.byKey.size > this.opts.maxKeys) {
      const oldest = this.byKey.keys().next();
      if (!oldest.done) this.byKey.delete(oldest.value);
    }
  }

  async sample(tenantId: string, versionId: string, limit: number): Promise<FailingCallSample[]> {
    const list = this.byKey.get(`${tenantId}\u0000${versionId}`) ?? [];
    return list.slice(-limit).reverse();
  }

  private bounded(value: unknown): unknown {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text === undefined || text.length <= this.opts.maxArgumentChars) return value;
    return `${text.slice(0, this.opts.maxArgumentChars)}… (${text.length} characters)`;
  }
}

interface ShadowRow {
  at_ms: number | string;
  session_id: string;
  request_id: string;
  stable_tool_calls: string;
  candidate_status: number | string | null;
  candidate_error: string | null;
  candidate_tool_calls: string;
}

interface ToolCallLike {
  name?: unknown;
  arguments?: unknown;
}

function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

const names = (calls: ToolCallLike[]) => calls.map((c) => String(c.name ?? '?')).join(', ') || 'none';

/**
 * Failing candidate calls from the shadow pairs the gateway stores (`shadow_results`): pairs where
 * the candidate errored, or called other tools than stable did for the same request.
 */
export class ShadowFailingCallSamples implements FailingCallSamples {
  constructor(private readonly db: SqlDatabase) {}

  async sample(tenantId: string, versionId: string, limit: number): Promise<FailingCallSample[]> {
    const rows = await this.db.all<ShadowRow>(
      `SELECT at_ms, session_id, request_id, stable_tool_calls, candidate_status, candidate_error, candidate_tool_calls
         FROM shadow_results WHERE tenant_id = ? AND candidate_version_id = ?
         ORDER BY at_ms DESC LIMIT ?`,
      [tenantId, versionId, Math.max(limit * 20, 100)],
    );
    const out: FailingCallSample[] = [];
    for (const r of rows) {
      const stable = JSON.parse(r.stable_tool_calls) as ToolCallLike[];
      const candidate = JSON.parse(r.candidate_tool_calls) as ToolCallLike[];
      const status = r.candidate_status === null ? null : Number(r.candidate_status);
      const problems: string[] = [];
      if (r.candidate_error) problems.push(`candidate error: ${r.candidate_error}`);
      else if (status !== null && status >= 400) problems.push(`candidate answered HTTP ${status}`);
      if (names(stable) !== names(candidate))
        problems.push(`called ${names(candidate)} where stable called ${names(stable)}`);
      if (problems.length === 0) continue;
      const first = candidate[0];
      out.push({
        atMs: Number(r.at_ms),
        sessionId: r.session_id,
        requestId: r.request_id,
        tool: first ? String(first.name ?? '?') : null,
        arguments: first ? parseArguments(first.arguments) : null,
        problems,
      });
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** Samples from several sources, newest first, at most `limit` in all. */
export class CombinedFailingCallSamples implements FailingCallSamples {
  constructor(private readonly sources: readonly FailingCallSamples[]) {}

  async sample(tenantId: string, versionId: string, limit: number): Promise<FailingCallSample[]> {
    const all = await Promise.all(this.sources.map((s) => s.sample(tenantId, versionId, limit)));
    return all
      .flat()
      .sort((a, b) => b.atMs - a.atMs)
      .slice(0, limit);
  }
}
