import { type AnyValueMap, type Logger, SeverityNumber } from '@opentelemetry/api-logs';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { TenantVerdict } from '../../bets/run-types.js';
import { GEN_AI, GEN_AI_EVENT_EVALUATION_RESULT, SWITCHYARD } from './genai-conventions.js';

/** `gen_ai.evaluation.name` of the gate decision as a whole. */
export const GATE_EVALUATION = 'switchyard.bets.gate';
/** `gen_ai.evaluation.name` of one assertion kind's pass rate: `switchyard.bets.tool_call`, ... */
export const kindEvaluation = (kind: string) => `switchyard.bets.${kind}`;

/**
 * Emits BETS gate verdicts as `gen_ai.evaluation.result` events (OpenTelemetry log records with
 * an event name, as the GenAI conventions define events): one for the gate (label `pass`, `fail`
 * or `error`; the reasons as explanation) and one per assertion kind (score: the candidate's
 * pass rate, 0 to 1; label `pass` or `fail` against the group's threshold). A verdict still
 * `pending` is no evaluation result yet and emits nothing.
 *
 * A verdict evaluates a candidate version over a suite, not one request, so there is no span to
 * parent the events to; they carry the tenant, channel (`gen_ai.request.model`), candidate
 * version and run ids instead.
 */
export class EvaluationEventEmitter {
  constructor(private readonly logger: Logger) {}

  recordVerdict(v: TenantVerdict): void {
    if (v.outcome === 'pending') return;
    const common: AnyValueMap = {
      [SWITCHYARD.tenant]: v.tenantId,
      [GEN_AI.requestModel]: v.channel,
      [SWITCHYARD.version]: v.candidateVersionId,
      [SWITCHYARD.runIds]: v.runIds,
      ...(v.upgradeId ? { [SWITCHYARD.upgrade]: v.upgradeId } : {}),
    };
    const decided = Date.parse(v.decidedAt);
    const timestamp = Number.isNaN(decided) ? new Date() : new Date(decided);
    const emit = (attributes: AnyValueMap, failed: boolean) =>
      this.logger.emit({
        eventName: GEN_AI_EVENT_EVALUATION_RESULT,
        timestamp,
        severityNumber: failed ? SeverityNumber.WARN : SeverityNumber.INFO,
        severityText: failed ? 'WARN' : 'INFO',
        attributes: { ...common, ...attributes },
      });

    emit(
      {
        [GEN_AI.evaluationName]: GATE_EVALUATION,
        [GEN_AI.evaluationScoreLabel]: v.outcome,
        ...(v.reasons.length > 0 ? { [GEN_AI.evaluationExplanation]: v.reasons.join('; ') } : {}),
        // error.type: the evaluation itself could not be completed (runs errored).
        ...(v.outcome === 'error' ? { [ATTR_ERROR_TYPE]: 'bets_run_error' } : {}),
      },
      v.outcome !== 'pass',
    );
    for (const k of v.kinds) {
      emit(
        {
          [GEN_AI.evaluationName]: kindEvaluation(k.kind),
          ...(k.rate === null ? {} : { [GEN_AI.evaluationScoreValue]: k.rate }),
          [GEN_AI.evaluationScoreLabel]: k.ok ? 'pass' : 'fail',
          [SWITCHYARD.threshold]: k.threshold,
          [SWITCHYARD.passed]: k.passed,
          [SWITCHYARD.total]: k.total,
        },
        !k.ok,
      );
    }
  }
}
