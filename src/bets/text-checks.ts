/**
 * Small, deterministic text measures the assertions use: JSON found in free text, a word-level
 * similarity for semantic checks without a judge, and BFCL's accepted-value matching.
 */

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Index just past the bracket that closes the one at `start`, or -1 (strings respected). */
function closingIndex(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The first JSON object or array inside `text` (as promptfoo's contains-json finds it). */
export function extractJson(text: string): { found: true; value: unknown } | { found: false } {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '{' && ch !== '[') continue;
    const end = closingIndex(text, i);
    if (end === -1) continue;
    try {
      return { found: true, value: JSON.parse(text.slice(i, end)) };
    } catch {
      // not JSON from here: try the next opening bracket
    }
  }
  return { found: false };
}

/** JSON with sorted keys: equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Word-overlap F1 between two texts (multisets of lower-cased words): 1 for the same words, 0
 * for none in common. Deterministic and cheap; the stand-in for a judge where none is pinned.
 */
export function similarity(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  if (x.length === 0 && y.length === 0) return 1;
  if (x.length === 0 || y.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const w of x) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of y) {
    const n = counts.get(w) ?? 0;
    if (n > 0) {
      common++;
      counts.set(w, n - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / y.length;
  const recall = common / x.length;
  return (2 * precision * recall) / (precision + recall);
}

/** BFCL's string standardisation: case, spaces and common punctuation do not matter. */
function standardise(s: string): string {
  return s
    .replace(/[ ,./\-_*^]/g, '')
    .toLowerCase()
    .replace(/'/g, '"');
}

/** A dict of accepted values: BFCL nests `{key: [accepted...]}` for dict-typed arguments. */
const isAcceptedDict = (v: unknown): v is Record<string, unknown[]> =>
  isRecord(v) && Object.values(v).every(Array.isArray);

function matchesOne(value: unknown, accepted: unknown): boolean {
  if (isAcceptedDict(accepted) && isRecord(value)) {
    for (const key of Object.keys(value)) if (!(key in accepted)) return false;
    return Object.entries(accepted).every(([key, list]) =>
      key in value ? matchesAny(value[key], list) : list.includes(''),
    );
  }
  if (Array.isArray(accepted)) {
    return (
      Array.isArray(value) &&
      value.length === accepted.length &&
      value.every((v, i) => matchesOne(v, accepted[i]))
    );
  }
  if (typeof accepted === 'string' && typeof value === 'string')
    return standardise(value) === standardise(accepted);
  if (typeof accepted === 'number' && typeof value === 'number') return value === accepted;
  return canonicalJson(value) === canonicalJson(accepted);
}

/** Whether `value` is one of BFCL's accepted values (`""` stands for "left out" and never matches a value). */
export function matchesAny(value: unknown, accepted: readonly unknown[]): boolean {
  return accepted.some((a) => a !== '' && matchesOne(value, a));
}

/** Problems with a call's arguments against accepted values per argument; empty when they fit. */
export function acceptedValueProblems(
  args: Record<string, unknown>,
  acceptedValues: Record<string, unknown[]>,
): string[] {
  const problems: string[] = [];
  for (const [name, accepted] of Object.entries(acceptedValues)) {
    if (!(name in args)) {
      if (!accepted.includes('')) problems.push(`argument '${name}' is missing`);
      continue;
    }
    if (!matchesAny(args[name], accepted)) {
      const allowed = accepted.filter((a) => a !== '');
      problems.push(
        `argument '${name}': got ${JSON.stringify(args[name])}, accepted ${JSON.stringify(allowed)}`,
      );
    }
  }
  for (const name of Object.keys(args)) {
    if (!(name in acceptedValues)) problems.push(`unexpected argument '${name}'`);
  }
  return problems;
}
