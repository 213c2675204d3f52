import type { Contract } from '../registry/types.js';
import { compiledContract } from './compiled-contracts.js';
import { findFencedJson, opensWithFence } from './fenced-json.js';
import { describeValue } from './json-shape.js';
import { toViolations, type Violation } from './violations.js';

/**
 * Validation of a text answer against the tenant's output format contracts (regex or JSON
 * Schema). A tenant may register several formats (one per workflow) and a text answer carries
 * no name saying which one it meant, so the answer conforms when it satisfies at least one of
 * them; when it satisfies none, every contract's failure is reported and the outcome's `kind`
 * is the most telling one (see FAILURE_PRECEDENCE).
 */

export type FormatFailureKind = 'json_in_markdown' | 'schema_violation' | 'invalid_json' | 'regex_mismatch';

export interface FormatFailure {
  /** The format contract's name. */
  contract: string;
  kind: FormatFailureKind;
  detail: string;
  /** Schema violations: of the text's JSON, or for json_in_markdown of the JSON inside the fence. */
  violations: Violation[];
}

export type OutputFormatOutcome =
  | { valid: true; matched: string | null }
  | { valid: false; kind: FormatFailureKind; failures: FormatFailure[] };

/**
 * Fenced JSON first: it is the classic upgrade drift and its fix is mechanical; then a schema
 * violation (the JSON is there but its shape moved); then plain non-JSON and regex misses.
 */
const FAILURE_PRECEDENCE: readonly FormatFailureKind[] = [
  'json_in_markdown',
  'schema_violation',
  'invalid_json',
  'regex_mismatch',
];

function checkOne(contract: Contract, text: string): FormatFailure | null {
  const compiled = compiledContract(contract);
  if (compiled.kind === 'tool') return null;
  if (compiled.kind === 'format_regex') {
    compiled.regex.lastIndex = 0;
    return compiled.regex.test(text)
      ? null
      : {
          contract: contract.name,
          kind: 'regex_mismatch',
          detail: `the text does not match /${compiled.regex.source}/${compiled.regex.flags}`,
          violations: [],
        };
  }
  let value: unknown;
  let parseError: string | undefined;
  // JSON never opens with a backtick: the common fenced case skips a JSON.parse that would throw.
  if (opensWithFence(text)) parseError = 'the text opens with a markdown code fence';
  else {
    try {
      value = JSON.parse(text);
    } catch (e) {
      parseError = (e as Error).message;
    }
  }
  if (parseError !== undefined) {
    const fenced = findFencedJson(text);
    if (fenced) {
      const ok = compiled.validate(fenced.value);
      return {
        contract: contract.name,
        kind: 'json_in_markdown',
        detail: `the JSON is wrapped in a markdown code fence${fenced.wholeText ? '' : ' with prose around it'}`,
        violations: ok ? [] : toViolations(compiled.validate.errors, fenced.value, compiled.schema),
      };
    }
    return {
      contract: contract.name,
      kind: 'invalid_json',
      detail: `the text is not JSON: ${parseError}`,
      violations: [{ path: '', keyword: 'type', expected: 'JSON text', got: describeValue(text) }],
    };
  }
  if (compiled.validate(value)) return null;
  return {
    contract: contract.name,
    kind: 'schema_violation',
    detail: 'the JSON does not satisfy the format schema',
    violations: toViolations(compiled.validate.errors, value, compiled.schema),
  };
}

/**
 * Checks a text answer against format contracts (tool contracts among them are ignored, so a
 * snapshot's whole contract map can be passed as `map.values()`). With no format contract there
 * is nothing to break: valid, matched null.
 */
export function validateOutputFormat(formatContracts: Iterable<Contract>, text: string): OutputFormatOutcome {
  const failures: FormatFailure[] = [];
  for (const contract of formatContracts) {
    if (contract.definition.kind === 'tool') continue;
    const failure = checkOne(contract, text);
    if (!failure) return { valid: true, matched: contract.name };
    failures.push(failure);
  }
  if (failures.length === 0) return { valid: true, matched: null };
  const kind = FAILURE_PRECEDENCE.find((k) => failures.some((f) => f.kind === k)) ?? 'regex_mismatch';
  return { valid: false, kind, failures };
}
