import type { FleetTenant } from '../fleet/fleet-spec.js';
import type { FeedbackRecord } from '../gateway/feedback/feedback-store.js';
import type { Router } from '../gateway/routing/router.js';
import type { Prng } from '../guard/prng.js';
import type { RoutingSnapshot } from '../registry/routing-snapshot.js';
import type { JudgeScore } from '../telemetry/judge-score.js';
import type { TelemetryEvent } from '../telemetry/telemetry-event.js';
import type { OutcomeModel } from './outcome-model.js';

/** What one tick of simulated traffic produced, for the same sinks the gateway feeds. */
export interface TrafficBatch {
  events: TelemetryEvent[];
  feedback: FeedbackRecord[];
  judge: JudgeScore[];
  /** Sessions that started this tick, and how many of them the router put on the candidate. */
  sessions: number;
  canarySessions: number;
}

export interface SimulatedTenant {
  spec: FleetTenant;
  keyId: string;
  /** Whether its agents make tool calls (tenants with tools) and have an output format contract. */
  usesTools: boolean;
  hasFormat: boolean;
}

/** Turns per conversation (each turn is a request); a session is one task. */
const TURNS = 4;
/** Share of shadowed or canary pairs sent to the judge. */
const JUDGE_SAMPLE = 0.05;
const HOUR = 3_600_000;

/**
 * Simulated agents' traffic through the real router: sessions start as a Poisson process at each
 * tenant's rate, are routed exactly as the gateway routes them (sticky pins, deterministic canary
 * buckets, hard cuts) and make a few requests each, whose outcomes are drawn from the outcome
 * model of the version that served them. The result is the telemetry events, feedback reports and
 * judge scores the gateway would have produced; the rest of the pipeline is the real one.
 */
export class TrafficGenerator {
  private seq = 0;

  constructor(
    private readonly rng: Prng,
    private readonly router: Router,
    private readonly outcomes: OutcomeModel,
    private readonly channel: string,
    private readonly scale: number,
  ) {}

  async tick(snapshot: RoutingSnapshot, tenants: readonly SimulatedTenant[], fromMs: number, toMs: number) {
    const out: TrafficBatch = { events: [], feedback: [], judge: [], sessions: 0, canarySessions: 0 };
    for (const t of tenants) await this.tenantTick(snapshot, t, fromMs, toMs, out);
    return out;
  }

  private async tenantTick(
    snapshot: RoutingSnapshot,
    t: SimulatedTenant,
    fromMs: number,
    toMs: number,
    out: TrafficBatch,
  ): Promise<void> {
    const tenant = snapshot.tenants.get(t.spec.id);
    const route = tenant?.channels.get(this.channel);
    if (!tenant || !route) return;
    const sessionsPerHour = (t.spec.requestsPerHour * this.scale) / TURNS;
    const sessions = this.rng.poisson((sessionsPerHour * (toMs - fromMs)) / HOUR);
    for (let s = 0; s < sessions; s++) {
      const sessionId = `sim-${t.spec.id}-${++this.seq}`;
      const atMs = fromMs + Math.floor(this.rng.next() * (toMs - fromMs));
      const decision = await this.router.decide(snapshot, tenant, route, sessionId);
      const version = decision.version;
      out.sessions++;
      if (decision.cohort === 'canary') out.canarySessions++;
      const o = this.outcomes.at(t.spec.id, version.id, atMs);
      const shadowed =
        decision.cohort === 'stable' &&
        route.candidate !== null &&
        this.rng.next() * 100 < route.binding.shadowPercent;
      let failedTurns = 0;
      for (let turn = 0; turn < TURNS; turn++) {
        const requestId = `${sessionId}-${turn}`;
        const failed = this.rng.next() < o.errorRate;
        const checked = t.usesTools && !failed ? 1 : 0;
        const invalid = checked && this.rng.next() < o.toolCallFailureRate ? 1 : 0;
        const coerced = checked && !invalid && this.rng.next() < o.coercionRate ? 1 : 0;
        if (failed || invalid) failedTurns++;
        const latency = o.latencyMs * Math.exp(0.6 * this.rng.normal());
        out.events.push({
          atMs,
          requestId,
          tenantId: t.spec.id,
          keyId: t.keyId,
          sessionId,
          channel: this.channel,
          versionId: version.id,
          cohort: decision.cohort,
          wire: 'openai',
          stream: turn % 2 === 1,
          status: failed ? 502 : 200,
          errorType: failed ? 'upstream_error' : null,
          fallback: null,
          sessionReset: decision.reset && turn === 0,
          toolNames: checked ? ['tool'] : [],
          latencyMs: latency,
          ttfbMs: latency / 3,
          inputTokens: 400,
          outputTokens: 120,
          promptHash: null,
          shadowed,
          taskId: sessionId,
          toolCallsChecked: checked,
          toolCallsInvalid: invalid,
          invalidKinds: invalid ? [this.rng.next() < 0.5 ? 'type' : 'required'] : [],
          toolCallsCoerced: coerced,
          formatValid: t.hasFormat && !failed ? !invalid : null,
          policyAction: invalid
            ? tenant.failurePolicy === 'coerce'
              ? 'coerce'
              : tenant.failurePolicy
            : null,
        });
        if ((shadowed || decision.cohort === 'canary') && route.candidate && this.rng.next() < JUDGE_SAMPLE) {
          const candidateOutcome = this.outcomes.at(t.spec.id, route.candidate.id, atMs);
          const score = Math.min(1, Math.max(0, candidateOutcome.judgeSimilarity + 0.05 * this.rng.normal()));
          out.judge.push({
            atMs,
            tenantId: t.spec.id,
            channel: this.channel,
            candidateVersionId: route.candidate.id,
            stableVersionId: route.stable.id,
            source: shadowed ? 'shadow' : 'canary',
            requestId,
            score,
          });
        }
      }
      const taskFailed = failedTurns > 1 || this.rng.next() < o.taskFailureRate;
      out.feedback.push({
        id: `fb-${sessionId}`,
        atMs: atMs + 1,
        tenantId: t.spec.id,
        keyId: t.keyId,
        sessionId,
        taskId: sessionId,
        channel: this.channel,
        versionId: version.id,
        cohort: decision.cohort,
        outcome: taskFailed ? 'failure' : 'success',
        downstreamErrors: this.rng.next() < o.downstreamErrorRate ? 1 : 0,
        errorKind: taskFailed ? 'task_failed' : null,
        detail: null,
        requestId: null,
      });
    }
  }
}
