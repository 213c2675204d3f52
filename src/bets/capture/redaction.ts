/**
 * Redaction of captured traffic before anything is stored: secrets (private key blocks, AWS
 * keys, bearer tokens, API-key-like tokens, JWTs, `password=...` pairs), payment card numbers
 * (only digit runs that pass the Luhn check, so order numbers and timestamps survive), e-mail
 * addresses and phone numbers. Secrets go first: a token may contain what looks like a phone
 * number, and must disappear whole.
 */

export type RedactionKind = 'secret' | 'card' | 'email' | 'phone';

export interface RedactionCounts {
  secret: number;
  card: number;
  email: number;
  phone: number;
}

const mark = (kind: RedactionKind) => `[REDACTED_${kind.toUpperCase()}]`;

const SECRET_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
  /\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_]|ant[-_](?:api\d+[-_])?)?[A-Za-z0-9_-]{16,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g,
  /\bhf_[A-Za-z0-9]{20,}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];
/** Keep the label, drop the value: `Bearer xyz`, `api_key=xyz`, `aws_secret_access_key: xyz`. */
const LABELLED_SECRETS: RegExp[] = [
  /\b(bearer\s+)[A-Za-z0-9._~+/-]{8,}=*/gi,
  /\b((?:aws_secret_access_key|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key|password|passwd|pwd|secret|token)["']?\s*[:=]\s*["']?)[^\s"',;}]{6,}/gi,
];
const CARD = /(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/**
 * Phone numbers: an optional +country code, then 7 to 15 digits in groups separated by spaces,
 * dots, hyphens or a parenthesised area code. A bare run of digits is not taken (ids, amounts),
 * nor anything shaped like a date or a time.
 */
const PHONE = /(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w])/g;
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/;

/** Luhn checksum over the digits of `s`. */
export function luhnValid(s: string): boolean {
  const digits = s.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function emptyCounts(): RedactionCounts {
  return { secret: 0, card: 0, email: 0, phone: 0 };
}

/** Redacts one string; adds what it replaced to `counts`. */
export function redactText(text: string, counts: RedactionCounts = emptyCounts()): string {
  let out = text;
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, () => {
      counts.secret++;
      return mark('secret');
    });
  }
  for (const re of LABELLED_SECRETS) {
    out = out.replace(re, (_whole, label: string) => {
      counts.secret++;
      return `${label}${mark('secret')}`;
    });
  }
  out = out.replace(CARD, (m) => {
    if (!luhnValid(m)) return m;
    counts.card++;
    return mark('card');
  });
  out = out.replace(EMAIL, () => {
    counts.email++;
    return mark('email');
  });
  out = out.replace(PHONE, (m) => {
    const digits = m.replace(/\D/g, '').length;
    if (digits < 7 || digits > 15 || DATE_LIKE.test(m.trim())) return m;
    counts.phone++;
    return mark('phone');
  });
  return out;
}

/** Object keys whose values are secrets whatever they look like. */
const SECRET_KEYS =
  /^(?:authorization|x-api-key|api[_-]?key|password|passwd|secret|client[_-]?secret|access[_-]?token|refresh[_-]?token|private[_-]?key|token)$/i;

/** Redacts every string in a JSON value (keys kept); values under secret-named keys go whole. */
export function redactValue<T>(value: T, counts: RedactionCounts = emptyCounts()): T {
  if (typeof value === 'string') return redactText(value, counts) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, counts)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEYS.test(k) && v !== null && v !== undefined && typeof v !== 'object') {
        counts.secret++;
        out[k] = mark('secret');
      } else {
        out[k] = redactValue(v, counts);
      }
    }
    return out as T;
  }
  return value;
}
