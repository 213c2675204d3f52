import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random identifier with a readable prefix, e.g. `aud_3f9k2...`. 128 bits of randomness. */
export function newId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
}

/** A secret for API keys and admin tokens: 192 bits, URL safe. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

/**
 * Secrets are stored only as SHA-256 hashes. They carry 192 bits of entropy, so a fast hash is
 * enough (no password-style stretching) and keeps key lookup O(1) on the request path.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
