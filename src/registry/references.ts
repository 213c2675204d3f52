import { notFound, SwitchyardError } from '../shared/errors.js';
import type { RegistryWriter } from './registry-store.js';
import type { AnyEntity, EntityKind, EntityTypes } from './types.js';

const badReference = (path: string, message: string) =>
  new SwitchyardError(400, 'invalid_reference', message, {
    details: [{ path, message }],
    hint: 'Create the referenced record first, or correct the id.',
  });

/**
 * Cross-record rules, checked inside the write transaction so they hold at commit: a tenant's
 * group exists, a binding's versions exist and belong to the bound channel, and so on.
 */
export async function checkReferences(w: RegistryWriter, kind: EntityKind, entity: AnyEntity): Promise<void> {
  switch (kind) {
    case 'tenant': {
      const t = entity as EntityTypes['tenant'];
      if (!(await w.get('rollout_group', t.rolloutGroup))) {
        throw badReference('/body/rolloutGroup', `rollout group '${t.rolloutGroup}' does not exist`);
      }
      return;
    }
    case 'api_key':
    case 'admin_token':
    case 'contract':
    case 'tenant_channel': {
      const tenantId = (entity as { tenantId: string | null }).tenantId;
      if (tenantId !== null && !(await w.get('tenant', tenantId))) throw notFound('Tenant', tenantId);
      if (kind === 'contract') {
        const c = entity as EntityTypes['contract'];
        if (!(await w.get('model_version', c.modelVersionId))) {
          throw badReference('/body/modelVersionId', `model version '${c.modelVersionId}' does not exist`);
        }
      }
      if (kind === 'tenant_channel') await checkBinding(w, entity as EntityTypes['tenant_channel']);
      return;
    }
    default:
      return;
  }
}

async function checkBinding(w: RegistryWriter, b: EntityTypes['tenant_channel']): Promise<void> {
  const stable = await w.get('model_version', b.stableVersionId);
  if (!stable)
    throw badReference('/body/stableVersionId', `model version '${b.stableVersionId}' does not exist`);
  if (stable.channel !== b.channel) {
    throw badReference(
      '/body/stableVersionId',
      `'${stable.id}' serves channel '${stable.channel}', not '${b.channel}'`,
    );
  }
  if (stable.lifecycle === 'retired') {
    throw badReference('/body/stableVersionId', `'${stable.id}' is retired and can no longer serve`);
  }
  if (b.candidateVersionId === null) return;
  if (b.candidateVersionId === b.stableVersionId) {
    throw badReference('/body/candidateVersionId', 'the candidate must differ from the stable version');
  }
  const cand = await w.get('model_version', b.candidateVersionId);
  if (!cand)
    throw badReference('/body/candidateVersionId', `model version '${b.candidateVersionId}' does not exist`);
  if (cand.channel !== b.channel) {
    throw badReference(
      '/body/candidateVersionId',
      `'${cand.id}' serves channel '${cand.channel}', not '${b.channel}'`,
    );
  }
}
