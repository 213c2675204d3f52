import type { RegistryStore } from '../registry/registry-store.js';
import type { Clock } from '../shared/clock.js';
import { alreadyExists, invalidInput, notFound, SwitchyardError, versionConflict } from '../shared/errors.js';
import type { BetsStore, CaseWrite, ChangeMeta, SuiteChange } from './bets-store.js';
import {
  type CaseSpec,
  DEFAULT_SUITE_CONFIG,
  type Suite,
  type SuiteCase,
  type SuiteConfig,
  type SuiteConfigPatch,
  type SuiteVersion,
  suiteIdOf,
} from './bets-types.js';
import { checkCases, type RejectedCase, rejectionDetails } from './case-check.js';
import { readSuiteFile, type SuiteFile, splitFileCase, toSuiteFile } from './import/suite-file.js';
import type { RunService } from './run-service.js';

export interface SuiteCreate {
  workflow: string;
  channel: string;
  name?: string;
  config?: SuiteConfigPatch;
}

export interface Staleness {
  stale: boolean;
  staleAfterDays: number;
  staleCases: number;
  oldestGoldenAt: string | null;
}

export interface ImportRequest {
  candidates: { spec: unknown; source: SuiteCase['source']; goldenAt?: string }[];
  /** Remove the suite's cases that the import does not contain. */
  replace?: boolean;
  /** Import the valid cases and list the refused ones; by default one refused case refuses all. */
  skipInvalid?: boolean;
  /** For a suite that does not exist yet: it is created on this channel. */
  create?: SuiteCreate;
  /** Conversion problems found before validation (BFCL, promptfoo), reported with the others. */
  preRejected?: RejectedCase[];
  warnings?: string[];
  note: string;
}

export interface ImportResult {
  suite: Suite;
  imported: number;
  rejected: RejectedCase[];
  warnings: string[];
}

const DAY_MS = 86_400_000;

/**
 * Suites and their cases: every write is checked (cases compile, the judge is not the channel
 * being upgraded) and lands as one new suite version, guarded by the version the caller read.
 */
export class SuiteService {
  constructor(
    private readonly store: BetsStore,
    private readonly registry: RegistryStore,
    private readonly runs: Pick<RunService, 'checkJudge'>,
    private readonly clock: Clock,
  ) {}

  private meta(actor: string, note: string): ChangeMeta {
    return { actor, note, at: new Date(this.clock.now()).toISOString() };
  }

  private async requireTenant(tenantId: string): Promise<void> {
    if (!(await this.registry.get('tenant', tenantId))) throw notFound('Tenant', tenantId);
  }

  async get(tenantId: string, workflow: string): Promise<Suite> {
    const suite = await this.store.getSuite(suiteIdOf(tenantId, workflow));
    if (!suite) throw notFound('Suite', `${tenantId}/${workflow}`);
    return suite;
  }

  versions(suite: Suite): Promise<SuiteVersion[]> {
    return this.store.listVersions(suite.id);
  }

  async list(tenantId: string): Promise<Suite[]> {
    await this.requireTenant(tenantId);
    return this.store.listSuites({ tenantId });
  }

  staleness(suite: Suite, cases: SuiteCase[]): Staleness {
    const limit = this.clock.now() - suite.config.staleAfterDays * DAY_MS;
    let oldest: string | null = null;
    let staleCases = 0;
    for (const c of cases) {
      if (oldest === null || c.goldenAt < oldest) oldest = c.goldenAt;
      if (Date.parse(c.goldenAt) < limit) staleCases++;
    }
    return {
      stale: staleCases > 0,
      staleAfterDays: suite.config.staleAfterDays,
      staleCases,
      oldestGoldenAt: oldest,
    };
  }

  async create(tenantId: string, input: SuiteCreate, actor: string): Promise<Suite> {
    await this.requireTenant(tenantId);
    const config: SuiteConfig = { ...DEFAULT_SUITE_CONFIG, ...input.config };
    await this.runs.checkJudge({ channel: input.channel, config });
    const suite = await this.store.createSuite(
      {
        tenantId,
        workflow: input.workflow,
        channel: input.channel,
        name: input.name ?? input.workflow,
        config,
      },
      [],
      this.meta(actor, 'created'),
    );
    if (!suite) throw alreadyExists('Suite', `${tenantId}/${input.workflow}`);
    return suite;
  }

  /** Applies a change on top of `ifVersion` (default: the current version). */
  private async change(
    suite: Suite,
    change: SuiteChange,
    ifVersion: number | undefined,
    meta: ChangeMeta,
  ): Promise<Suite> {
    const expected = ifVersion ?? suite.version;
    const result = await this.store.changeSuite(suite.id, expected, change, meta);
    if (result === 'conflict') {
      const now = await this.store.getSuite(suite.id);
      throw versionConflict('Suite', suite.id, expected, now?.version);
    }
    if ('missing' in result) throw notFound('Case', result.missing.join(', '));
    return result;
  }

  async update(
    tenantId: string,
    workflow: string,
    patch: { name?: string; config?: SuiteConfigPatch },
    ifVersion: number | undefined,
    actor: string,
  ): Promise<Suite> {
    const suite = await this.get(tenantId, workflow);
    const config = patch.config ? { ...suite.config, ...patch.config } : undefined;
    if (config) await this.runs.checkJudge({ channel: suite.channel, config });
    return this.change(
      suite,
      { ...(patch.name !== undefined ? { name: patch.name } : {}), ...(config ? { config } : {}) },
      ifVersion,
      this.meta(actor, 'configuration changed'),
    );
  }

  async remove(
    tenantId: string,
    workflow: string,
    ifVersion: number | undefined,
    actor: string,
  ): Promise<Suite> {
    const suite = await this.get(tenantId, workflow);
    const expected = ifVersion ?? suite.version;
    if (!(await this.store.deleteSuite(suite.id, expected, this.meta(actor, 'deleted')))) {
      throw versionConflict('Suite', suite.id, expected, (await this.store.getSuite(suite.id))?.version);
    }
    return suite;
  }

  async cases(
    tenantId: string,
    workflow: string,
    version?: number,
  ): Promise<{ suite: Suite; version: number; cases: SuiteCase[] }> {
    const suite = await this.get(tenantId, workflow);
    const v = version ?? suite.version;
    if (v < 1 || v > suite.version) throw notFound('Suite version', `${suite.id}@${v}`);
    return { suite, version: v, cases: await this.store.listCases(suite.id, v) };
  }

  async putCase(
    tenantId: string,
    workflow: string,
    spec: CaseSpec,
    ifVersion: number | undefined,
    actor: string,
  ): Promise<Suite> {
    const suite = await this.get(tenantId, workflow);
    const { rejected } = checkCases([spec], () => '/body');
    if (rejected.length > 0) throw invalidCases(rejected);
    const existing = await this.store.listCases(suite.id, suite.version);
    const before = existing.find((c) => c.id === spec.id);
    return this.change(
      suite,
      { upsert: [{ spec, source: before?.source ?? 'manual' }] },
      ifVersion,
      this.meta(actor, `case ${spec.id} ${before ? 'changed' : 'added'}`),
    );
  }

  async deleteCase(
    tenantId: string,
    workflow: string,
    caseId: string,
    ifVersion: number | undefined,
    actor: string,
  ): Promise<Suite> {
    const suite = await this.get(tenantId, workflow);
    return this.change(suite, { remove: [caseId] }, ifVersion, this.meta(actor, `case ${caseId} removed`));
  }

  /** Adds (or replaces) cases in one new suite version; creates the suite when asked to. */
  async importCases(
    tenantId: string,
    workflow: string,
    req: ImportRequest,
    ifVersion: number | undefined,
    actor: string,
  ): Promise<ImportResult> {
    await this.requireTenant(tenantId);
    const { valid, rejected } = checkCases(req.candidates.map((c) => c.spec));
    const all = [...(req.preRejected ?? []), ...rejected];
    if (all.length > 0 && !req.skipInvalid) throw invalidCases(all);
    if (valid.length === 0) throw invalidInput('the import has no valid case', rejectionDetails(all));
    const byId = new Map(req.candidates.map((c) => [(c.spec as { id?: string }).id, c]));
    const writes: CaseWrite[] = valid.map((spec) => {
      const c = byId.get(spec.id);
      return { spec, source: c?.source ?? 'file', ...(c?.goldenAt ? { goldenAt: c.goldenAt } : {}) };
    });
    let suite = await this.store.getSuite(suiteIdOf(tenantId, workflow));
    const meta = this.meta(actor, req.note);
    if (!suite) {
      if (!req.create) throw notFound('Suite', `${tenantId}/${workflow}`);
      const config: SuiteConfig = { ...DEFAULT_SUITE_CONFIG, ...req.create.config };
      await this.runs.checkJudge({ channel: req.create.channel, config });
      const created = await this.store.createSuite(
        { tenantId, workflow, channel: req.create.channel, name: req.create.name ?? workflow, config },
        writes,
        meta,
      );
      if (!created) throw alreadyExists('Suite', `${tenantId}/${workflow}`);
      suite = created;
    } else {
      suite = await this.change(suite, { upsert: writes, replaceAll: req.replace === true }, ifVersion, meta);
    }
    return { suite, imported: writes.length, rejected: all, warnings: req.warnings ?? [] };
  }

  /** Imports a suite export file (into this tenant and workflow, whatever the file names). */
  async importFile(
    tenantId: string,
    workflow: string,
    doc: unknown,
    opts: { replace?: boolean; skipInvalid?: boolean },
    ifVersion: number | undefined,
    actor: string,
  ): Promise<ImportResult> {
    const file = readSuiteFile(doc);
    return this.importCases(
      tenantId,
      workflow,
      {
        candidates: file.cases.map(splitFileCase),
        ...opts,
        create: { workflow, channel: file.channel, name: file.name, config: file.config },
        note: `imported from a suite file (${file.tenantId}/${file.workflow} v${file.suiteVersion})`,
      },
      ifVersion,
      actor,
    );
  }

  async exportFile(tenantId: string, workflow: string, version?: number): Promise<SuiteFile> {
    const { suite, version: v, cases } = await this.cases(tenantId, workflow, version);
    const config = (await this.store.versionConfig(suite.id, v)) ?? suite.config;
    return toSuiteFile(suite, v, config, cases, new Date(this.clock.now()).toISOString());
  }
}

export function invalidCases(rejected: RejectedCase[]): SwitchyardError {
  const ids = rejected.map((r) => r.caseId ?? `#${r.index}`);
  return new SwitchyardError(
    400,
    'invalid_case',
    `${rejected.length} case(s) are invalid: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}`,
    {
      details: rejectionDetails(rejected),
      hint: 'Fix the cases listed in details, or import with skipInvalid to take only the valid ones.',
    },
  );
}
