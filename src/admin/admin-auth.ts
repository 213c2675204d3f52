import type { FastifyRequest } from 'fastify';
import type { RegistryService } from '../registry/registry-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isSwitchyardError, unauthenticated } from '../shared/errors.js';
import { hashSecret } from '../shared/ids.js';
import type { Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Resolves `Authorization: Bearer <admin token>` to a principal. Tokens are stored hashed. */
export class AdminAuth {
  constructor(
    private readonly store: RegistryStore,
    private readonly registry: RegistryService,
  ) {}

  async authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw unauthenticated('missing admin token');
    const token = await this.store.findByUnique('admin_token', hashSecret(match[1]));
    if (!token || token.revokedAt) throw unauthenticated('unknown or revoked admin token');
    return { actor: `token:${token.id}/${token.name}`, role: token.role, tenantId: token.tenantId };
  }

  /**
   * Makes `secret` (from SWITCHYARD_ADMIN_TOKEN) a valid operator token, so a fresh deployment
   * can be administered at all. Idempotent across restarts and processes.
   */
  async ensureBootstrapToken(secret: string): Promise<void> {
    if (await this.store.findByUnique('admin_token', hashSecret(secret))) return;
    try {
      await this.registry.importAdminToken(
        { actor: 'system:bootstrap' },
        { name: 'bootstrap', role: 'operator' },
        secret,
      );
    } catch (e) {
      // Several processes starting at once race to register it; one winning is all we need.
      if (!(isSwitchyardError(e) && e.code === 'already_exists')) throw e;
      if (!(await this.store.findByUnique('admin_token', hashSecret(secret)))) throw e;
    }
  }
}
