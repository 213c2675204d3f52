import { type CoercionResult, coerceArguments } from '../../contracts/coercion.js';
import { CoercionLedger } from '../../contracts/coercion-ledger.js';
import { type SelfCorrectionError, toSelfCorrectionError } from '../../contracts/self-correction.js';
import { findToolContract, type InvalidToolCall } from '../../contracts/tool-call-validator.js';
import type { Contract, FailurePolicy } from '../../registry/types.js';
import type { Clock } from '../../shared/clock.js';
import type { GatewayConfig } from '../gateway-config.js';
import type { GatewayLogger } from '../gateway-types.js';
import { type InvalidCall, invalidKindOf, type ToolCallsCheck } from './response-check.js';

/**
 * The tenant failure policies, applied to one answer's contract check:
 *   pass      the answer goes out as it is; the failure is recorded
 *   fallback  the candidate's answer is replaced by stable's (while the client has received
 *             nothing); a stable answer that fails is passed, since it is the baseline the
 *             tenant falls back to; a candidate stream that already sent text gets `error`
 *   error     the agent gets the self-correction error (422, or an in-stream error event)
 *   coerce    capped coercion, then strict re-validation; what cannot be repaired gets `error`
 * Output-format failures have no self-correction error (they are not about a tool call): they
 * trigger `fallback` where possible and are otherwise passed and recorded.
 */

export type PolicyAction = 'pass' | 'fallback' | 'error' | 'coerce';

export type PolicyVerdict =
  | { action: 'release' }
  | { action: 'coerce'; replace: Map<number, unknown> }
  | { action: 'error'; errors: SelfCorrectionError[] }
  /** `errors`: the self-correction errors, should stable be unable to answer (empty for format failures). */
  | { action: 'fallback'; errors: SelfCorrectionError[] };

export interface PolicyContext {
  tenantId: string;
  versionId: string;
  requestId: string;
  policy: FailurePolicy;
  contracts: ReadonlyMap<string, Contract>;
  /** The candidate answered (so stable could answer instead). */
  candidate: boolean;
  /** Bytes of this answer already reached the client (streams): fallback is no longer possible. */
  sent: boolean;
}

/** Told of each tool call that broke a contract, with the request it came in (off the hot path's
 * critical work: an observer must only record, e.g. into a bounded sample). */
export type InvalidCallObserver = (ctx: PolicyContext, call: InvalidToolCall) => void;

/** One request's contract outcome, as its telemetry event reports it. */
export class ValidationRecord {
  checked = 0;
  invalid = 0;
  readonly invalidKinds: string[] = [];
  coerced = 0;
  formatValid: boolean | null = null;
  policyAction: PolicyAction | null = null;

  act(action: PolicyAction): void {
    // One request can take several decisions (stream groups, a fallback): keep the strongest.
    const rank = { pass: 0, coerce: 1, fallback: 2, error: 3 } as const;
    if (this.policyAction === null || rank[action] > rank[this.policyAction]) this.policyAction = action;
  }
}

export interface ValidationCounters {
  toolCallsChecked: number;
  toolCallsInvalid: number;
  toolCallsCoerced: number;
  /** Decisions per policy action. */
  actions: Record<PolicyAction, number>;
  /** Candidate streams that failed with fallback policy after text was sent (became `error`). */
  fallbackAfterText: number;
  /** Stable answers that failed too after a fallback. */
  stableInvalidAfterFallback: number;
}

export function newValidationCounters(): ValidationCounters {
  return {
    toolCallsChecked: 0,
    toolCallsInvalid: 0,
    toolCallsCoerced: 0,
    actions: { pass: 0, fallback: 0, error: 0, coerce: 0 },
    fallbackAfterText: 0,
    stableInvalidAfterFallback: 0,
  };
}

const RELEASE: PolicyVerdict = Object.freeze({ action: 'release' });

/** Applies failure policies; owns the per-tenant-and-version coercion ledger. Shared by all requests. */
export class ContractEnforcer {
  readonly ledger: CoercionLedger;
  readonly counters = newValidationCounters();

  constructor(
    cfg: GatewayConfig['validation'],
    clock: Clock,
    private readonly logger: GatewayLogger,
    private readonly onInvalid?: InvalidCallObserver,
  ) {
    this.ledger = new CoercionLedger({
      cap: cfg.coercionCap,
      windowMs: cfg.coercionWindowMs,
      minCalls: cfg.coercionMinCalls,
      clock,
      onSignal: (signal) =>
        logger.warn({ signal }, 'coercion cap exceeded: coercion stops for this tenant and version'),
    });
  }

  /**
   * Decides what happens to an answer (or a stream's group of tool calls) and records it.
   * `formatValid` is null when no format contract applies (and always for stream groups).
   */
  decide(
    ctx: PolicyContext,
    check: ToolCallsCheck,
    formatValid: boolean | null,
    record: ValidationRecord,
  ): PolicyVerdict {
    record.checked += check.checked;
    record.invalid += check.invalid.length;
    for (const c of check.invalid) {
      record.invalidKinds.push(invalidKindOf(c.outcome));
      if (this.onInvalid) {
        try {
          this.onInvalid(ctx, c.outcome);
        } catch (err) {
          this.logger.warn({ err }, 'an invalid tool call observer failed');
        }
      }
    }
    if (formatValid !== null) record.formatValid = record.formatValid === false ? false : formatValid;
    this.counters.toolCallsChecked += check.checked;
    this.counters.toolCallsInvalid += check.invalid.length;
    const callsInvalid = check.invalid.length > 0;
    if (!callsInvalid && formatValid !== false) {
      if (ctx.policy === 'coerce') for (let i = 0; i < check.checked; i++) this.ledgerRecord(ctx, 'valid');
      return RELEASE;
    }
    const verdict = this.apply(ctx, check, callsInvalid, record);
    const action: PolicyAction = verdict.action === 'release' ? 'pass' : verdict.action;
    record.act(action);
    this.counters.actions[action]++;
    return verdict;
  }

  private apply(
    ctx: PolicyContext,
    check: ToolCallsCheck,
    callsInvalid: boolean,
    record: ValidationRecord,
  ): PolicyVerdict {
    switch (ctx.policy) {
      case 'pass':
        return RELEASE;
      case 'fallback':
        if (!ctx.candidate) return RELEASE;
        if (!ctx.sent) return { action: 'fallback', errors: errorsOf(check.invalid) };
        if (!callsInvalid) return RELEASE;
        this.counters.fallbackAfterText++;
        return { action: 'error', errors: errorsOf(check.invalid) };
      case 'error':
        return callsInvalid ? { action: 'error', errors: errorsOf(check.invalid) } : RELEASE;
      case 'coerce':
        return callsInvalid ? this.coerce(ctx, check, record) : RELEASE;
    }
  }

  private coerce(ctx: PolicyContext, check: ToolCallsCheck, record: ValidationRecord): PolicyVerdict {
    for (let i = 0; i < check.checked - check.invalid.length; i++) this.ledgerRecord(ctx, 'valid');
    const repairs: Array<{ c: InvalidCall; result: Extract<CoercionResult, { status: 'coerced' }> }> = [];
    const failed: InvalidCall[] = [];
    for (const c of check.invalid) {
      const o = c.outcome;
      const compiled = o.kind === 'schema_violation' ? findToolContract(ctx.contracts, o.tool) : undefined;
      const result =
        o.kind === 'schema_violation' && compiled
          ? coerceArguments(compiled.schema, o.arguments, compiled.validate)
          : undefined;
      if (result?.status === 'coerced') repairs.push({ c, result });
      else {
        this.ledgerRecord(ctx, 'invalid');
        failed.push(c);
      }
    }
    // All or nothing: an answer with one unrepairable call gets the error, and its repairable
    // calls count as needed-but-refused (the ledger's rate stays honest).
    const allowed =
      failed.length === 0 && repairs.every(() => this.ledger.shouldCoerce(ctx.tenantId, ctx.versionId));
    if (!allowed) {
      for (const r of repairs) {
        this.ledgerRecord(ctx, 'coercion_refused');
        failed.push(r.c);
      }
      failed.sort((a, b) => a.index - b.index);
      return { action: 'error', errors: errorsOf(failed) };
    }
    const replace = new Map<number, unknown>();
    for (const { c, result } of repairs) {
      this.ledgerRecord(ctx, 'coerced');
      replace.set(c.index, result.after);
      record.coerced++;
      this.counters.toolCallsCoerced++;
      this.logger.info(
        {
          event: 'tool_call_coerced',
          tenantId: ctx.tenantId,
          versionId: ctx.versionId,
          requestId: ctx.requestId,
          tool: c.outcome.tool,
          toolCallId: c.outcome.callId,
          before: result.before,
          after: result.after,
          coercions: result.coercions,
        },
        'tool call arguments coerced',
      );
    }
    return { action: 'coerce', replace };
  }

  private ledgerRecord(ctx: PolicyContext, outcome: Parameters<CoercionLedger['record']>[2]): void {
    this.ledger.record(ctx.tenantId, ctx.versionId, outcome);
  }
}

function errorsOf(invalid: readonly InvalidCall[]): SelfCorrectionError[] {
  return invalid.map((c) => toSelfCorrectionError(c.outcome, { index: c.index }));
}
