import type { AnyEntity, AuditEntry, EntityKind, EntityTypes } from './types.js';

/** Filters for reading the audit log, newest first. */
export interface AuditQuery {
  tenantId?: string;
  entityKind?: EntityKind;
  entityId?: string;
  /** Only entries with a smaller sequence number (pagination). */
  beforeSeq?: number;
  limit: number;
}

/** Everything the routing snapshot is built from, read in one consistent transaction. */
export interface RegistryDump {
  version: number;
  tenants: EntityTypes['tenant'][];
  apiKeys: EntityTypes['api_key'][];
  models: EntityTypes['model_version'][];
  channels: EntityTypes['tenant_channel'][];
  contracts: EntityTypes['contract'][];
  groups: EntityTypes['rollout_group'][];
}

/** Operations inside one write transaction. */
export interface RegistryWriter {
  get<K extends EntityKind>(kind: K, id: string): Promise<EntityTypes[K] | undefined>;
  /** Throws UniqueViolation when the id (or another unique key) is taken. */
  insert<K extends EntityKind>(kind: K, entity: EntityTypes[K]): Promise<void>;
  /** Writes `entity` only if the stored version is `expectedVersion`; false otherwise. */
  update<K extends EntityKind>(kind: K, entity: EntityTypes[K], expectedVersion: number): Promise<boolean>;
  delete(kind: EntityKind, id: string, expectedVersion: number): Promise<boolean>;
  /** Ids of records that reference the given record (which block deleting it). */
  dependents(kind: EntityKind, id: string): Promise<string[]>;
  appendAudit(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry>;
  /** Later entries touching the same record, oldest first. */
  auditAfter(entityKind: EntityKind, entityId: string, seq: number): Promise<AuditEntry[]>;
  /** Advances the registry version (every committed change gets a new one); returns it. */
  bumpVersion(): Promise<number>;
}

/** The registry's store port. One implementation over SqlDatabase serves SQLite and PostgreSQL. */
export interface RegistryStore {
  get<K extends EntityKind>(kind: K, id: string): Promise<EntityTypes[K] | undefined>;
  list<K extends EntityKind>(kind: K, opts?: { tenantId?: string }): Promise<EntityTypes[K][]>;
  findByUnique<K extends 'api_key' | 'admin_token'>(
    kind: K,
    hash: string,
  ): Promise<EntityTypes[K] | undefined>;
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
  getAudit(id: string): Promise<AuditEntry | undefined>;
  version(): Promise<number>;
  dump(): Promise<RegistryDump>;
  write<T>(fn: (w: RegistryWriter) => Promise<T>): Promise<T>;
}

export type { AnyEntity };
