import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { invalidInput } from '../../shared/errors.js';
import { CaseSource, type Suite, type SuiteCase, SuiteConfig, WorkflowId } from '../bets-types.js';

/**
 * The export file of a suite: one JSON document with the configuration and every case of one
 * version, with each case's origin and age. Importing it gives back the same suite content.
 */
export const SUITE_FILE_FORMAT = 'switchyard.bets-suite';

export const SuiteFile = Type.Object(
  {
    format: Type.Literal(SUITE_FILE_FORMAT),
    formatVersion: Type.Literal(1),
    tenantId: Type.String(),
    workflow: WorkflowId,
    channel: Type.String(),
    name: Type.String(),
    suiteVersion: Type.Integer({ minimum: 1 }),
    exportedAt: Type.String(),
    config: SuiteConfig,
    cases: Type.Array(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type SuiteFile = Static<typeof SuiteFile>;

export function toSuiteFile(
  suite: Suite,
  version: number,
  config: SuiteConfig,
  cases: SuiteCase[],
  at: string,
): SuiteFile {
  return {
    format: SUITE_FILE_FORMAT,
    formatVersion: 1,
    tenantId: suite.tenantId,
    workflow: suite.workflow,
    channel: suite.channel,
    name: suite.name,
    suiteVersion: version,
    exportedAt: at,
    config,
    cases: cases.map(({ sinceVersion: _since, ...c }) => c),
  };
}

/** Reads a suite file; each case is checked later with the others (checkCases). */
export function readSuiteFile(doc: unknown): SuiteFile {
  if (!Value.Check(SuiteFile, doc)) {
    const details = [...Value.Errors(SuiteFile, doc)]
      .slice(0, 10)
      .map((e) => ({ path: `/body/file${e.path}`, message: e.message }));
    throw invalidInput(
      'not a Switchyard suite file (format switchyard.bets-suite, formatVersion 1)',
      details,
    );
  }
  return doc;
}

/** Splits a suite file case into its spec and its origin (source, goldenAt). */
export function splitFileCase(raw: unknown): {
  spec: unknown;
  source: SuiteCase['source'];
  goldenAt?: string;
} {
  if (typeof raw !== 'object' || raw === null) return { spec: raw, source: 'file' };
  const { source, goldenAt, ...spec } = raw as Record<string, unknown>;
  const known = Value.Check(CaseSource, source) ? source : 'file';
  return { spec, source: known, ...(typeof goldenAt === 'string' ? { goldenAt } : {}) };
}
