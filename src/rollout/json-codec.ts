/**
 * JSON for the controller's stored status. The guard's statistics may hold non-finite numbers
 * (a log-evidence of −∞ before any data, a ratio of ∞ with an empty control), which plain JSON
 * turns into null; they are kept as tagged strings and restored on read.
 */
const TAG = '\u0000num:';

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? `${TAG}${String(v)}` : v,
  );
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) =>
    typeof v === 'string' && v.startsWith(TAG) ? Number(v.slice(TAG.length)) : v,
  ) as T;
}
