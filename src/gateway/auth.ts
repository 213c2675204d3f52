import type { IncomingHttpHeaders } from 'node:http';
import type { KeyRoute, RoutingSnapshot } from '../registry/routing-snapshot.js';
import { hashSecret } from '../shared/ids.js';
import { GatewayError, invalidKey } from './gateway-error.js';

/** The key a client sent: `Authorization: Bearer <key>` (OpenAI SDK) or `x-api-key` (Anthropic SDK). */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
    return auth.slice(7).trim();
  }
  const x = headers['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x : undefined;
}

/**
 * Hashes of the keys seen recently. A fleet sends the same few keys on every request; hashing
 * each once saves a SHA-256 per request. Bounded (cleared when full) and holding only what
 * clients sent: whether a key is valid is still decided against the current snapshot.
 */
const hashes = new Map<string, string>();
const MAX_CACHED_KEYS = 10_000;

function keyHash(key: string): string {
  let h = hashes.get(key);
  if (h === undefined) {
    if (hashes.size >= MAX_CACHED_KEYS) hashes.clear();
    h = hashSecret(key);
    hashes.set(key, h);
  }
  return h;
}

/**
 * Authenticates a tenant API key against the routing snapshot: a hash and a map lookup, no
 * database. Expired keys (past their rotation grace) are refused like unknown ones, so the
 * answer does not tell an attacker which keys exist.
 */
export function authenticate(
  headers: IncomingHttpHeaders,
  snapshot: RoutingSnapshot,
  nowMs: number,
): KeyRoute {
  const key = presentedKey(headers);
  if (!key) {
    throw new GatewayError(
      401,
      'authentication',
      'no API key: send "Authorization: Bearer <key>" or "x-api-key"',
      {
        code: 'missing_api_key',
      },
    );
  }
  const route = snapshot.keysByHash.get(keyHash(key));
  if (!route || (route.expiresAtMs !== null && route.expiresAtMs <= nowMs)) throw invalidKey();
  return route;
}
