import { compileRegex, compileSchema } from '../../contracts/schema-compiler.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { Contract, ModelVersion } from '../../registry/types.js';
import type { Clock } from '../../shared/clock.js';
import { notFound, SwitchyardError } from '../../shared/errors.js';
import type { BetsStore } from '../bets-store.js';
import type { Assertion, CaseSpec } from '../bets-types.js';
import type { CapturedExample, CaptureProposal } from '../capture-types.js';
import { checkCases } from '../case-check.js';
import { CallFailed, type ProviderCaller } from '../provider-caller.js';
import { buildRequestBody, parseReply } from '../provider-codec.js';
import { Semaphore } from '../rate-limit.js';
import type { Answer } from '../run-types.js';
import type { SuiteService } from '../suite-service.js';
import { canonicalJson, extractJson, similarity } from '../text-checks.js';

export interface RefreshOptions {
  /** Replays of each captured input on the stable version. */
  k: number;
  /** Share of replays that must give the same tool call. */
  minAgreement: number;
  /** Lowest pairwise similarity between replayed text answers. */
  minTextSimilarity: number;
  /** Arguments up to this length become exact constraints; longer ones are free text. */
  maxExactLength: number;
}

export const DEFAULT_REFRESH: RefreshOptions = {
  k: 3,
  minAgreement: 1,
  minTextSimilarity: 0.8,
  maxExactLength: 40,
};

type Assessment =
  | { ok: true; proposal: CaptureProposal }
  | { ok: false; reasons: string[]; replays: Answer[] };

function formatAssertions(contracts: Contract[]): Assertion[] {
  const out: Assertion[] = [];
  for (const c of contracts) {
    const d = c.definition;
    if (d.kind === 'format_regex')
      out.push({
        kind: 'format',
        check: 'regex',
        pattern: d.pattern,
        ...(d.flags ? { flags: d.flags } : {}),
      });
    if (d.kind === 'format_json_schema')
      out.push({ kind: 'format', check: 'json', extract: 'whole', schema: d.schema });
  }
  return out;
}

/** Whether a text satisfies every format contract of the tenant (regex or JSON Schema). */
function formatProblems(text: string, contracts: Contract[]): string[] {
  const problems: string[] = [];
  for (const c of contracts) {
    const d = c.definition;
    if (d.kind === 'format_regex' && !compileRegex(d.pattern, d.flags, c.id).test(text))
      problems.push(`breaks format contract ${c.name}`);
    if (d.kind === 'format_json_schema') {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        problems.push(`is not JSON, as format contract ${c.name} requires`);
        continue;
      }
      if (!compileSchema(d.schema, c.id)(value)) problems.push(`breaks format contract ${c.name}`);
    }
  }
  return problems;
}

const callKey = (a: Answer) =>
  canonicalJson(a.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })));

/**
 * Judges whether the stable version's replays of a captured input make a trustworthy golden
 * case: all of one kind (tool call or text), agreeing with each other, satisfying the tenant's
 * contracts. Tool calls become schema-level constraints (short scalar values exact, long text
 * only required), text becomes a semantic assertion plus the tenant's format contracts.
 */
export function assess(
  capture: CapturedExample,
  replays: Answer[],
  contracts: Contract[],
  opts: RefreshOptions,
): Assessment {
  const reasons: string[] = [];
  const id = `cap-${capture.inputHash.slice(0, 16)}`;
  const calls = replays.filter((r) => r.toolCalls.length > 0);
  if (calls.length === replays.length) {
    const counts = new Map<string, number>();
    for (const r of replays) counts.set(callKey(r), (counts.get(callKey(r)) ?? 0) + 1);
    const [modalKey, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    const agreement = n / replays.length;
    if (agreement < opts.minAgreement)
      reasons.push(`replays agree on the tool call ${Math.round(agreement * 100)}% of the time`);
    const modal = replays.find((r) => callKey(r) === modalKey) as Answer;
    if (modal.toolCalls.length > 1) reasons.push('parallel tool calls are not proposed as golden cases');
    const call = modal.toolCalls[0];
    const args = call?.arguments;
    if (!call || typeof args !== 'object' || args === null || Array.isArray(args))
      reasons.push('the tool call arguments are not an object');
    const contract = contracts.find((c) => c.definition.kind === 'tool' && c.name === call?.name);
    if (
      call &&
      contract?.definition.kind === 'tool' &&
      !compileSchema(contract.definition.parameters, contract.id)(args)
    ) {
      reasons.push(`the stable answer breaks the tool contract of ${call.name}`);
    }
    if (reasons.length > 0 || !call) return { ok: false, reasons, replays };
    const record = args as Record<string, unknown>;
    const properties: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      const exact =
        typeof v === 'number' ||
        typeof v === 'boolean' ||
        (typeof v === 'string' && v.length <= opts.maxExactLength);
      if (exact) properties[k] = { const: v };
    }
    const spec: CaseSpec = {
      id,
      description: `captured ${capture.capturedAt}`,
      input: capture.input,
      assertions: [
        {
          kind: 'tool_call',
          tool: call.name,
          argumentsSchema: { type: 'object', required: Object.keys(record), properties },
        },
      ],
      golden: { toolCall: { name: call.name, arguments: record } },
    };
    return { ok: true, proposal: { case: spec, confidence: agreement, replays, reasons: [] } };
  }
  if (calls.length > 0) return { ok: false, reasons: ['replays mix tool calls and text answers'], replays };
  const texts = replays.map((r) => r.text ?? '');
  let confidence = 1;
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++)
      confidence = Math.min(confidence, similarity(texts[i] ?? '', texts[j] ?? ''));
  }
  if (confidence < opts.minTextSimilarity)
    reasons.push(`replayed answers differ (lowest similarity ${confidence.toFixed(2)})`);
  for (const t of texts) for (const p of formatProblems(t, contracts)) reasons.push(`a replayed answer ${p}`);
  if (texts.some((t) => t.trim() === '')) reasons.push('a replay gave no text');
  if (reasons.length > 0) return { ok: false, reasons: [...new Set(reasons)], replays };
  const golden = texts[0] ?? '';
  const isJson = extractJson(golden).found && golden.trim().startsWith('{');
  const spec: CaseSpec = {
    id,
    description: `captured ${capture.capturedAt}`,
    input: capture.input,
    assertions: [
      { kind: 'semantic', golden, passScore: Math.min(0.8, confidence) },
      ...formatAssertions(contracts),
      ...(isJson && contracts.length === 0
        ? [{ kind: 'format', check: 'json', extract: 'whole' } as const]
        : []),
    ],
    golden: { text: golden },
  };
  return { ok: true, proposal: { case: spec, confidence, replays, reasons: [] } };
}

/**
 * Refresh: captured inputs replayed through the tenant's current stable version k times; only
 * high-confidence ones are proposed, and a person approves or rejects each before it joins the
 * suite as a case (with a fresh golden age).
 */
export class RefreshService {
  constructor(
    private readonly store: BetsStore,
    private readonly registry: RegistryStore,
    private readonly caller: ProviderCaller,
    private readonly suites: SuiteService,
    private readonly clock: Clock,
    private readonly opts: RefreshOptions = DEFAULT_REFRESH,
  ) {}

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  async refresh(tenantId: string, workflow: string, limit = 50, signal = new AbortController().signal) {
    const suite = await this.suites.get(tenantId, workflow);
    const binding = await this.registry.get('tenant_channel', `${tenantId}:${suite.channel}`);
    const stable = binding && (await this.registry.get('model_version', binding.stableVersionId));
    if (!stable) {
      throw new SwitchyardError(
        400,
        'invalid_reference',
        `tenant '${tenantId}' has no stable version on channel '${suite.channel}' to replay with`,
      );
    }
    const contracts = (await this.registry.list('contract', { tenantId })).filter(
      (c) => c.modelVersionId === stable.id,
    );
    const captures = await this.store.listCaptures({ tenantId, workflow, status: 'captured', limit });
    const gate = new Semaphore(4);
    const outcome = { proposed: 0, discarded: 0 };
    await Promise.all(
      captures.map(async (capture) => {
        const release = await gate.acquire();
        try {
          const next = await this.assessOne(capture, stable, contracts, suite.config, signal);
          if (await this.store.updateCapture(next, 'captured'))
            outcome[next.status === 'proposed' ? 'proposed' : 'discarded']++;
        } finally {
          release();
        }
      }),
    );
    return outcome;
  }

  private async assessOne(
    capture: CapturedExample,
    stable: ModelVersion,
    contracts: Contract[],
    config: { maxTokens: number; caseTimeoutMs: number },
    signal: AbortSignal,
  ): Promise<CapturedExample> {
    const body = buildRequestBody(stable, capture.input, config.maxTokens);
    const replays: Answer[] = [];
    const base = { ...capture, updatedAt: this.iso() };
    for (let i = 0; i < this.opts.k; i++) {
      try {
        const res = await this.caller.call(stable, body, signal, config.caseTimeoutMs);
        const reply = parseReply(stable.providerKind, res.json);
        if (!reply)
          return {
            ...base,
            status: 'discarded',
            note: 'the stable version did not answer with a completion',
          };
        replays.push(reply.answer);
      } catch (e) {
        if (!(e instanceof CallFailed)) throw e;
        return { ...base, status: 'discarded', note: `replay failed: ${e.message}` };
      }
    }
    const a = assess(capture, replays, contracts, this.opts);
    if (!a.ok) return { ...base, status: 'discarded', note: a.reasons.join('; ') };
    const { rejected } = checkCases([a.proposal.case]);
    if (rejected.length > 0) {
      return {
        ...base,
        status: 'discarded',
        note: `the proposed case would be invalid: ${rejected[0]?.details.map((d) => d.message).join('; ')}`,
      };
    }
    return { ...base, status: 'proposed', proposal: a.proposal, note: null };
  }

  /** A person's decision on a proposed example; an approved one becomes (or refreshes) a case. */
  async review(
    tenantId: string,
    captureId: string,
    decision: 'approve' | 'reject',
    note: string | null,
    actor: string,
  ): Promise<CapturedExample> {
    const capture = await this.store.getCapture(captureId);
    if (!capture || capture.tenantId !== tenantId) throw notFound('Captured example', captureId);
    if (capture.status !== 'proposed' || !capture.proposal) {
      throw new SwitchyardError(
        409,
        'not_proposed',
        `captured example '${captureId}' is ${capture.status}, not proposed`,
        {
          hint: 'Only examples proposed by a refresh can be reviewed.',
        },
      );
    }
    const at = this.iso();
    const decided: CapturedExample = {
      ...capture,
      status: decision === 'approve' ? 'approved' : 'rejected',
      note,
      reviewedBy: actor,
      reviewedAt: at,
      caseId: decision === 'approve' ? capture.proposal.case.id : null,
      updatedAt: at,
    };
    // The status guard makes the decision once, even with two reviewers at the same time.
    if (!(await this.store.updateCapture(decided, 'proposed'))) {
      throw new SwitchyardError(
        409,
        'not_proposed',
        `captured example '${captureId}' was reviewed meanwhile`,
      );
    }
    if (decision === 'approve') {
      try {
        await this.suites.importCases(
          tenantId,
          capture.workflow,
          {
            candidates: [{ spec: capture.proposal.case, source: 'capture', goldenAt: at }],
            note: `approved captured example ${captureId}`,
          },
          undefined,
          actor,
        );
      } catch (e) {
        await this.store.updateCapture({ ...capture, updatedAt: this.iso() }, decided.status);
        throw e;
      }
    }
    return decided;
  }
}
