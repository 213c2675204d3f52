/**
 * What a simulated model "reads" from the user's message to fill arguments plausibly: numbers,
 * quoted strings, capitalised phrases (places, names), dates. Extracted once per request; the
 * generator then takes from it by parameter name, so "a base of 10 and a height of 5" gives
 * `{ base: 10, height: 5 }` instead of random numbers.
 */

export interface NumberHint {
  value: number;
  /** Offset of the number in the text, to find the number closest after a parameter's name. */
  index: number;
}

export interface Hints {
  text: string;
  lower: string;
  /** Lower-case word tokens in order. */
  words: string[];
  numbers: NumberHint[];
  quoted: string[];
  /** Runs of capitalised words not at the very start of the text ("San Francisco", "Lakers"). */
  capitalised: string[];
  /** Valid ISO dates found in the text (YYYY-MM-DD). */
  dates: string[];
}

const STOP_WORDS = new Set(
  (
    'a an the and or but of to in on at for with by from as is are was were be been being it its this that ' +
    'these those i me my we our you your he she they them their what which who whom how when where why can ' +
    'could would should will shall may might must do does did have has had please tell give get find show ' +
    'let us some any all about into over under than then there here also just need want like'
  ).split(' '),
);

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/** Lower-case alphanumeric tokens (letters of any script, digits). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Tokens that carry meaning: no stop words, no one-letter tokens. */
export function contentWords(text: string): string[] {
  return tokenize(text).filter((w) => w.length > 1 && !STOP_WORDS.has(w));
}

/** `user_id`, `userId`, `math.factorial` -> ['user', 'id'], ['math', 'factorial']. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

export function isValidIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days;
}

export function extractHints(text: string): Hints {
  const numbers: NumberHint[] = [];
  // Numbers not glued to letters (so "v2" and "mp3" stay words); thousands separators allowed.
  for (const m of text.matchAll(
    /(?<![\p{L}\d.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\p{L}\d.])-?\d+(?:\.\d+)?/gu,
  )) {
    const value = Number(m[0].replace(/,/g, ''));
    if (Number.isFinite(value)) numbers.push({ value, index: m.index ?? 0 });
  }
  const quoted: string[] = [];
  for (const m of text.matchAll(
    /"([^"\n]{1,200})"|(?<![\p{L}])'([^'\n]{1,200})'(?![\p{L}])|`([^`\n]{1,200})`/gu,
  )) {
    const value = (m[1] ?? m[2] ?? m[3] ?? '').trim();
    if (value) quoted.push(value);
  }
  const capitalised: string[] = [];
  for (const m of text.matchAll(/\b[A-Z][\p{L}'-]*(?:[ ,]+[A-Z][\p{L}'-]*)*/gu)) {
    if ((m.index ?? 0) === 0 && !m[0].includes(' ')) continue; // the sentence's first word
    const value = m[0].replace(/[ ,]+$/, '');
    if (!STOP_WORDS.has(value.toLowerCase())) capitalised.push(value);
  }
  const dates = [...text.matchAll(/\b\d{4}-\d{2}-\d{2}\b/g)].map((m) => m[0]).filter(isValidIsoDate);
  return { text, lower: text.toLowerCase(), words: tokenize(text), numbers, quoted, capitalised, dates };
}

export const EMPTY_HINTS: Hints = extractHints('');

/** Whether the text mentions a parameter name (all its meaningful words, allowing inflections). */
export function mentionIndex(hints: Hints, name: string): number {
  const words = nameWords(name).filter((w) => w.length >= 3 && !STOP_WORDS.has(w));
  if (words.length === 0) return -1;
  let first = -1;
  for (const word of words) {
    const stem = word.length > 5 ? word.slice(0, word.length - 2) : word;
    const at = wordStartIndex(hints.lower, stem);
    if (at === -1) return -1;
    if (first === -1 || at < first) first = at;
  }
  return first;
}

/** Whether `phrase` (lower case) occurs in the text as whole words. */
export function containsPhrase(hints: Hints, phrase: string): boolean {
  for (let i = hints.lower.indexOf(phrase); i !== -1; i = hints.lower.indexOf(phrase, i + 1)) {
    const before = hints.lower[i - 1] ?? ' ';
    const after = hints.lower[i + phrase.length] ?? ' ';
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return true;
  }
  return false;
}

/** The first place `stem` starts a word in `lower` (no RegExp built per parameter). */
function wordStartIndex(lower: string, stem: string): number {
  for (let i = lower.indexOf(stem); i !== -1; i = lower.indexOf(stem, i + 1)) {
    if (i === 0 || !/[\p{L}\p{N}]/u.test(lower[i - 1] ?? '')) return i;
  }
  return -1;
}
