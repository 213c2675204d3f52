import { Value } from '@sinclair/typebox/value';
import type { ErrorDetail } from '../shared/errors.js';
import { CaseSpec } from './bets-types.js';
import { CaseCompileError, compileCase } from './compiled-case.js';

/** A case refused at import or write time, with every reason and where. */
export interface RejectedCase {
  index: number;
  caseId: string | null;
  details: ErrorDetail[];
}

const MAX_SHAPE_ERRORS = 10;

/**
 * Checks candidate cases before anything is stored: the shape (the CaseSpec schema), unique ids,
 * and that every schema and regex compiles and every named tool is offered. Returns the good
 * ones and the refused ones separately, so the caller chooses all-or-nothing or skip-invalid.
 */
export function checkCases(
  candidates: readonly unknown[],
  /** Where each candidate is in the caller's input (a JSON pointer). */
  pathOf: (index: number) => string = (i) => `/cases/${i}`,
): { valid: CaseSpec[]; rejected: RejectedCase[] } {
  const valid: CaseSpec[] = [];
  const rejected: RejectedCase[] = [];
  const seen = new Set<string>();
  candidates.forEach((raw, index) => {
    const where = pathOf(index);
    const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : null;
    if (!Value.Check(CaseSpec, raw)) {
      const details = [...Value.Errors(CaseSpec, raw)]
        .slice(0, MAX_SHAPE_ERRORS)
        .map((e) => ({ path: `${where}${e.path}`, message: e.message }));
      rejected.push({ index, caseId: id, details });
      return;
    }
    const spec = raw as CaseSpec;
    if (seen.has(spec.id)) {
      rejected.push({
        index,
        caseId: spec.id,
        details: [{ path: `${where}/id`, message: `case id '${spec.id}' appears twice` }],
      });
      return;
    }
    seen.add(spec.id);
    try {
      compileCase(spec, where);
      valid.push(spec);
    } catch (e) {
      if (!(e instanceof CaseCompileError)) throw e;
      rejected.push({ index, caseId: spec.id, details: e.details });
    }
  });
  return { valid, rejected };
}

/** Details of rejected cases flattened for one error envelope, each prefixed with its case id. */
export function rejectionDetails(rejected: RejectedCase[]): ErrorDetail[] {
  return rejected.flatMap((r) =>
    r.details.map((d) => ({
      path: d.path,
      message: r.caseId ? `case '${r.caseId}': ${d.message}` : d.message,
    })),
  );
}
