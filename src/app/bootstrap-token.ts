import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AdminAuth } from '../admin/admin-auth.js';
import type { Config } from '../config/config-schema.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { newSecret } from '../shared/ids.js';

/** Where the embedded mode keeps a generated operator token for the CLI on the same machine. */
export function embeddedTokenFile(config: Config): string | null {
  return config.storage.driver === 'sqlite' && config.storage.sqlitePath !== ':memory:'
    ? join(dirname(config.storage.sqlitePath), 'admin-token')
    : null;
}

/**
 * Makes sure someone can administer this deployment. SWITCHYARD_ADMIN_TOKEN, when set, is
 * registered as an operator token. Otherwise, in the embedded mode, a token is generated once and
 * written (mode 0600) next to the database, where the CLI finds it. A scaled deployment with no
 * token at all must be given one: start-up says so.
 */
export async function ensureAdminAccess(
  config: Config,
  env: NodeJS.ProcessEnv,
  auth: AdminAuth,
  store: RegistryStore,
): Promise<{ source: 'env' | 'file' | 'existing'; file?: string }> {
  if (env.SWITCHYARD_ADMIN_TOKEN) {
    await auth.ensureBootstrapToken(env.SWITCHYARD_ADMIN_TOKEN);
    return { source: 'env' };
  }
  const file = embeddedTokenFile(config);
  if (file) {
    const secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : newSecret('sya-');
    if (!existsSync(file)) writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    await auth.ensureBootstrapToken(secret);
    return { source: 'file', file };
  }
  if ((await store.list('admin_token')).length === 0) {
    throw new Error(
      'no admin token exists: set SWITCHYARD_ADMIN_TOKEN to a secret of your choice for the first start',
    );
  }
  return { source: 'existing' };
}
