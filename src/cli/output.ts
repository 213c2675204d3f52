import Table from 'cli-table3';

/**
 * Everything the admin commands print goes through here: stdout carries results only (tables,
 * records, JSON); notes and warnings go to stderr so `--json` output stays parseable.
 */

export const out = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
export const note = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** ISO timestamps without milliseconds, easier to scan in a table. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** One cell or value: null/undefined as '-', booleans as yes/no, objects as compact JSON. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

export function printTable(head: string[], rows: unknown[][], emptyMessage: string): void {
  if (rows.length === 0) {
    out(emptyMessage);
    return;
  }
  // No colours: output is often piped, and the table is read the same either way.
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) table.push(r.map(formatValue));
  out(table.toString());
}

/**
 * Flattens nested objects to dotted keys (riskProfile.criticality), so a record prints as one
 * aligned key/value block; arrays stay whole, as compact JSON.
 */
export function flatten(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const rows: [string, unknown][] = [];
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      rows.push(...flatten(v as Record<string, unknown>, key));
    } else {
      rows.push([key, v]);
    }
  }
  return rows;
}

export function printRecord(record: object, formatters: Record<string, (v: unknown) => string> = {}): void {
  const rows = flatten(record as Record<string, unknown>);
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  out(rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${formatters[k]?.(v) ?? formatValue(v)}`).join('\n'));
}

/**
 * A secret (API key, admin token) is returned once by the server: say so loudly. With --json the
 * secret is already in the printed response, so only the warning is added (on stderr).
 */
export function printSecret(label: string, secret: string, json = false): void {
  if (!json) out(`${label.charAt(0).toUpperCase()}${label.slice(1)}: ${secret}`);
  note(`warning: copy the ${label} now; it is stored hashed and will not be shown again.`);
}

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** Changed leaf fields between two records (either may be null for a create or a delete). */
export function diffRecords(before: object | null, after: object | null): FieldChange[] {
  const b = new Map(before ? flatten(before as Record<string, unknown>) : []);
  const a = new Map(after ? flatten(after as Record<string, unknown>) : []);
  const changes: FieldChange[] = [];
  for (const path of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(path);
    const y = a.get(path);
    if (JSON.stringify(x) !== JSON.stringify(y)) changes.push({ path, before: x, after: y });
  }
  return changes;
}

/** `~ path: old -> new`, `+ path: new` (field added), `- path: old` (field removed). */
export function formatChanges(changes: FieldChange[]): string {
  if (changes.length === 0) return '(no field changed)';
  // Values as JSON (strings bare): in a diff, null, false and "" must not look alike.
  const formatValue = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return changes
    .map((c) => {
      if (c.before === undefined) return `+ ${c.path}: ${formatValue(c.after)}`;
      if (c.after === undefined) return `- ${c.path}: ${formatValue(c.before)}`;
      return `~ ${c.path}: ${formatValue(c.before)} -> ${formatValue(c.after)}`;
    })
    .join('\n');
}
