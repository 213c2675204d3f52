import type { AdminRole } from '../registry/types.js';
import { forbidden, notFound } from '../shared/errors.js';

/** Who is calling the admin API, resolved from their token. */
export interface Principal {
  /** Written to the audit log: `token:<id>/<name>`. */
  actor: string;
  role: AdminRole;
  /** The only tenant a tenant_contact may see; null for platform roles. */
  tenantId: string | null;
}

export type Permission = 'read' | 'write' | 'approve';

const GRANTS: Record<AdminRole, readonly Permission[]> = {
  operator: ['read', 'write', 'approve'],
  approver: ['read', 'approve'],
  viewer: ['read'],
  // Acts only on its own tenant; every route also calls scopeToTenant.
  tenant_contact: ['read', 'approve'],
};

export function requirePermission(p: Principal, perm: Permission): void {
  if (!GRANTS[p.role].includes(perm)) throw forbidden(`role ${p.role} may not ${perm} here`);
}

/**
 * Tenant isolation: a tenant contact asking about another tenant learns nothing, not even that
 * it exists, so the answer is the same 404 a missing tenant gets.
 */
export function scopeToTenant(p: Principal, tenantId: string): void {
  if (p.role === 'tenant_contact' && p.tenantId !== tenantId) throw notFound('Tenant', tenantId);
}

/** Platform-wide operations (models, groups, tokens, global audit) are not for tenant contacts. */
export function requirePlatform(p: Principal, perm: Permission): void {
  if (p.role === 'tenant_contact') throw forbidden('tenant contacts may act on their own tenant only');
  requirePermission(p, perm);
}
