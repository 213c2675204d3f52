import type { Command } from 'commander';
import type { ApiKey } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  connect,
  emit,
  parseInteger,
  reasonBody,
  withReason,
} from '../command-kit.js';
import { out, printRecord, printSecret, printTable, shortTime } from '../output.js';

/** What the API returns for a key: never the hash. */
type ApiKeyView = Omit<ApiKey, 'keyHash'>;
interface WithSecret {
  key: ApiKeyView;
  secret: string;
}

interface KeyOptions extends ChangeOptions {
  label?: string;
  expiresAt?: string;
  graceSeconds?: number;
}

function keyState(k: ApiKeyView, now = Date.now()): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return 'expired';
  return k.expiresAt ? 'expiring' : 'active';
}

/** `tenants keys ...`: a tenant's API keys for the gateway. Secrets are shown once, at creation. */
export function registerKeyCommands(tenants: Command): void {
  const keys = tenants.command('keys').description("a tenant's gateway API keys");
  const base = (tenant: string) => `/tenants/${seg(tenant)}/keys`;

  adminCommand(keys, 'list <tenant>', "list a tenant's API keys").action(
    async (tenant: string, o: ChangeOptions) => {
      const res = await connect(o).get<{ items: ApiKeyView[] }>(base(tenant));
      emit(o, res, (r) =>
        printTable(
          ['id', 'label', 'prefix', 'state', 'expires', 'revoked', 'created'],
          r.items.map((k) => [
            k.id,
            k.label,
            k.prefix,
            keyState(k),
            shortTime(k.expiresAt),
            shortTime(k.revokedAt),
            shortTime(k.createdAt),
          ]),
          `No API keys for ${tenant}.`,
        ),
      );
    },
  );

  withReason(
    adminCommand(keys, 'create <tenant>', 'issue a new API key (the secret is shown once)')
      .option('--label <text>', 'what the key is for, e.g. the agent using it')
      .option('--expires-at <date-time>', 'expiry, ISO 8601 (e.g. 2026-12-31T00:00:00Z)'),
  ).action(async (tenant: string, o: KeyOptions) => {
    const res = await connect(o).post<WithSecret>(base(tenant), {
      label: o.label,
      expiresAt: o.expiresAt,
      reason: o.reason,
    });
    emit(o, res, (r) => {
      out(`Created API key ${r.key.id} for ${r.key.tenantId}.`);
      printRecord(r.key);
    });
    printSecret('API key', res.secret, o.json);
  });

  withReason(
    adminCommand(
      keys,
      'rotate <tenant> <keyId>',
      'issue a replacement key; the old one lives for a grace period',
    ).option(
      '--grace-seconds <n>',
      'how long the old key keeps working (default 0: revoked at once)',
      parseInteger('a number of seconds'),
    ),
  ).action(async (tenant: string, keyId: string, o: KeyOptions) => {
    const res = await connect(o).post<WithSecret & { previous: ApiKeyView }>(
      `${base(tenant)}/${seg(keyId)}/rotate`,
      {
        graceSeconds: o.graceSeconds,
        reason: o.reason,
      },
    );
    emit(o, res, (r) => {
      const old = r.previous.revokedAt ? 'revoked' : `valid until ${shortTime(r.previous.expiresAt)}`;
      out(`Rotated ${r.previous.id} (${old}); new key ${r.key.id}.`);
      printRecord(r.key);
    });
    printSecret('API key', res.secret, o.json);
  });

  withReason(adminCommand(keys, 'revoke <tenant> <keyId>', 'revoke an API key at once')).action(
    async (tenant: string, keyId: string, o: ChangeOptions) => {
      const k = await connect(o).delete<ApiKeyView>(`${base(tenant)}/${seg(keyId)}`, reasonBody(o));
      emit(o, k, () => out(`Revoked API key ${k.id} of ${k.tenantId}.`));
    },
  );
}
