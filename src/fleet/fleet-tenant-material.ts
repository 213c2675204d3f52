import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseSpec, ToolDef } from '../bets/bets-types.js';
import { casesFromBfcl } from '../bets/import/bfcl-suite-import.js';
import { invalidInput } from '../shared/errors.js';
import type { BfclSlice, FleetTenant } from './fleet-spec.js';

/** The BFCL slices shipped with Switchyard (data/bfcl), used when a fleet names no other folder. */
export const SHIPPED_BFCL_DIR = fileURLToPath(new URL('../../data/bfcl', import.meta.url));

/** What a tenant brings to the registry and BETS: its tools (deduplicated by name) and golden cases. */
export interface TenantMaterial {
  tools: ToolDef[];
  cases: CaseSpec[];
  /** BFCL cases left out because they offer another schema under a tool name already taken. */
  skipped: { caseId: string; tool: string }[];
}

function lines(text: string, slice: BfclSlice): string {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .slice(slice.offset, slice.offset + slice.count)
    .join('\n');
}

async function readSlice(dir: string, slice: BfclSlice, tenantId: string): Promise<TenantMaterial> {
  const base = join(dir, slice.file);
  let cases: string;
  let answers: string;
  try {
    [cases, answers] = await Promise.all([
      readFile(`${base}.json`, 'utf8'),
      readFile(`${base}.answers.json`, 'utf8'),
    ]);
  } catch (e) {
    throw invalidInput(`tenant '${tenantId}': cannot read BFCL file '${slice.file}'`, [
      { path: `/tenants/${tenantId}/bfcl/file`, message: (e as Error).message },
    ]);
  }
  const out = casesFromBfcl(lines(cases, slice), lines(answers, slice), { closedSchemas: false });
  return { tools: [], cases: out.cases, skipped: [] };
}

const sameTool = (a: ToolDef, b: ToolDef) => JSON.stringify(a.parameters) === JSON.stringify(b.parameters);

/**
 * A tenant's tools and cases: what it declares inline plus its BFCL slice (whose tools are the
 * functions its cases offer). A tenant has one contract per tool name: inline tools must not
 * repeat a name, and a BFCL case offering a different schema under a name already taken (BFCL's
 * live cases hold several versions of `get_current_weather`) is left out and listed.
 */
export async function tenantMaterial(
  tenant: FleetTenant,
  bfclDir = SHIPPED_BFCL_DIR,
): Promise<TenantMaterial> {
  const byName = new Map<string, ToolDef>();
  for (const tool of tenant.tools) {
    if (byName.has(tool.name)) {
      throw invalidInput(`tenant '${tenant.id}': two tools are named '${tool.name}'`, [
        { path: `/tenants/${tenant.id}/tools`, message: 'tool names must be unique per tenant' },
      ]);
    }
    byName.set(tool.name, tool);
  }
  const cases = [...tenant.cases];
  const skipped: TenantMaterial['skipped'] = [];
  if (tenant.bfcl) {
    for (const c of (await readSlice(bfclDir, tenant.bfcl, tenant.id)).cases) {
      const clash = c.input.tools.find(
        (t) => byName.has(t.name) && !sameTool(byName.get(t.name) as ToolDef, t),
      );
      if (clash) {
        skipped.push({ caseId: c.id, tool: clash.name });
        continue;
      }
      for (const t of c.input.tools) byName.set(t.name, t);
      cases.push(c);
    }
  }
  return { tools: [...byName.values()], cases, skipped };
}
