import { internalStringDistance, type StringDistance } from './string-distance.js';

/**
 * How likely two argument names are the same argument under another spelling. A renamed
 * argument is the drift that hurts most quietly (the executor reads `undefined` where the value
 * used to be), and the ways model versions rename are few: case style (`zip_code` ->
 * `zipCode`), plural, a synonym (`location` -> `place`), or a small edit. Each way has its own
 * score, so a report can say why it called something a rename.
 */

export type NameMatchReason =
  | 'identical'
  | 'case_style'
  | 'plural'
  | 'synonym'
  | 'token_overlap'
  | 'edit'
  | 'none';

export interface NameSimilarity {
  /** In [0, 1]; 1 is the same name, 0 nothing in common. */
  score: number;
  reason: NameMatchReason;
}

/** Splits snake_case, kebab-case, camelCase, PascalCase and dotted names into lower-case words. */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}

function singular(token: string): string {
  if (token.length > 3 && token.endsWith('ies')) return `${token.slice(0, -3)}y`;
  if (token.length > 3 && token.endsWith('s') && !token.endsWith('ss')) return token.slice(0, -1);
  return token;
}

/**
 * Synonym groups seen in real tool schemas and model renames (the simulator's rename table is a
 * subset). Entries with `_` are whole names; the others also match as single words inside a
 * name, so `start_date` ~ `begin_date`.
 */
export const SYNONYM_GROUPS: ReadonlyArray<readonly string[]> = [
  ['location', 'place', 'loc', 'where'],
  ['city', 'town'],
  ['query', 'q', 'search_term', 'search_query', 'search'],
  ['name', 'title'],
  ['date', 'day'],
  ['number', 'num', 'value'],
  ['amount', 'sum'],
  ['count', 'quantity', 'qty'],
  ['limit', 'max_results', 'top_k', 'max_items'],
  ['id', 'identifier'],
  ['text', 'content', 'body'],
  ['type', 'kind'],
  ['start', 'begin', 'from'],
  ['end', 'finish', 'to', 'until'],
  ['description', 'desc'],
  ['message', 'msg'],
  ['address', 'addr'],
  ['temperature', 'temp'],
  ['maximum', 'max'],
  ['minimum', 'min'],
  ['destination', 'dest'],
  ['source', 'src', 'origin'],
  ['language', 'lang'],
  ['latitude', 'lat'],
  ['longitude', 'lon', 'lng'],
  ['zip', 'zipcode', 'zip_code', 'postal_code', 'postcode'],
  ['email', 'email_address'],
  ['phone', 'phone_number', 'telephone'],
  ['image', 'img', 'picture', 'photo'],
  ['url', 'link', 'uri'],
  ['year', 'yr'],
];

const CANONICAL = new Map<string, string>();
for (const group of SYNONYM_GROUPS) {
  const head = group[0] ?? '';
  for (const name of group) CANONICAL.set(name, head);
}

function canonicalName(tokens: readonly string[]): string {
  const whole = CANONICAL.get(tokens.join('_'));
  if (whole !== undefined) return whole;
  return tokens.map((t) => CANONICAL.get(t) ?? CANONICAL.get(singular(t)) ?? singular(t)).join('_');
}

export function nameSimilarity(
  a: string,
  b: string,
  distance: StringDistance = internalStringDistance,
): NameSimilarity {
  if (a === b) return { score: 1, reason: 'identical' };
  const ta = nameTokens(a);
  const tb = nameTokens(b);
  const na = ta.join('_');
  const nb = tb.join('_');
  if (na === nb || ta.join('') === tb.join('')) return { score: 0.98, reason: 'case_style' };
  if (ta.map(singular).join('_') === tb.map(singular).join('_')) return { score: 0.95, reason: 'plural' };
  if (na.length > 0 && canonicalName(ta) === canonicalName(tb)) return { score: 0.9, reason: 'synonym' };
  const longest = Math.max(na.length, nb.length);
  if (longest === 0) return { score: 0, reason: 'none' };
  const edit = Math.max(distance.jaroWinkler(na, nb), 1 - distance.levenshtein(na, nb) / longest);
  const [shorter, longer] = ta.length <= tb.length ? [ta, tb] : [tb, ta];
  // `unit` vs `unit_value`: every word of one name appears in the other.
  const contained = shorter.length > 0 && shorter.every((t) => longer.includes(t));
  if (contained && edit < 0.8) return { score: 0.8, reason: 'token_overlap' };
  return edit > 0 ? { score: Math.round(edit * 1000) / 1000, reason: 'edit' } : { score: 0, reason: 'none' };
}
