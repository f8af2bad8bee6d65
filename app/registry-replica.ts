import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createLocalReplica } from '../registry/replica/local.ts';
import type { AppliedChanges } from '../registry/replica/tables.ts';
import { createRegistryReplicator, REGISTRY_CHANNEL } from '../registry/replica/replicator.ts';
import { listenPostgres } from '../registry/sql/postgres.ts';
import type { Sql } from '../registry/sql/port.ts';
import type { Db } from '../registry/db.ts';
import type { DeviceRegistry } from '../registry/devices.ts';
import type { TokenStore } from '../registry/tokens.ts';
import type { ServiceAccounts } from '../registry/service-accounts.ts';
import { createListeners } from '../lib/listeners.ts';
import { CodedError } from '../lib/errors.ts';
import type { AppContext } from './context.ts';

/** The tables a device's DeviceInfo is joined from besides its own row: a change there re-reads every device. */
const PLACE_TABLES = ['districts', 'sub_districts', 'communities', 'zones', 'facilities'];

/** Credentials another node changed (rotated, disabled, retired, deleted): their live connections here are dropped. */
export interface Revoked { devices: string[]; services: string[] }

interface CachedStores {
  db: Db;
  devices: Pick<DeviceRegistry, 'get' | 'refresh' | 'list' | 'secretHashOf'>;
  tokens: Pick<TokenStore, 'refresh'>;
  serviceAccounts: Pick<ServiceAccounts, 'get' | 'refresh' | 'secretHashOf'>;
}

const idOf = (pk: string): string => String((JSON.parse(pk) as unknown[])[0]);

/** Devices re-read between two turns of the event loop (inventory/service.ts measured why: the city's 2,318 at once held it ~150 ms). */
const REFRESH_SLICE = 200;

/** Re-read the in-memory indexes over the rows just applied; what lost its credentials. */
export async function refreshCaches(stores: CachedStores, changes: AppliedChanges): Promise<Revoked> {
  const revoked: Revoked = { devices: [], services: [] };
  const deviceIds = new Set((changes.get('devices') ?? []).map(idOf));
  if (PLACE_TABLES.some((t) => changes.has(t))) {
    for (const d of stores.devices.list()) deviceIds.add(d.id);
    for (const { id } of stores.db.prepare('SELECT id FROM devices WHERE retired_at IS NULL').all() as Array<{ id: string }>) deviceIds.add(id);
  }
  let n = 0;
  for (const id of deviceIds) {
    if (++n % REFRESH_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const hash = stores.devices.secretHashOf(id);
    const after = stores.devices.refresh(id);
    if (hash !== undefined && (!after || after.disabled || stores.devices.secretHashOf(id) !== hash)) revoked.devices.push(id);
  }
  for (const pk of changes.get('api_tokens') ?? []) stores.tokens.refresh(idOf(pk));
  for (const pk of changes.get('service_accounts') ?? []) {
    const id = idOf(pk);
    const hash = stores.serviceAccounts.secretHashOf(id);
    stores.serviceAccounts.refresh(id);
    const after = stores.serviceAccounts.get(id);
    if (hash !== undefined && (!after || after.disabled || stores.serviceAccounts.secretHashOf(id) !== hash)) revoked.services.push(id);
  }
  return revoked;
}

/**
 * The registry shared through PostgreSQL (GS_POSTGRES_URL; registry/replica/): started after
 * the shared state's pool and before the broker and the API, so a node on an empty data
 * directory has the registry before it lets a device in. The users, sessions and city read
 * SQLite live; the device, token and service-account indexes are re-read here after each
 * apply, and later features subscribe to what they hold (`onApplied`, `onRevoked`).
 * Without GS_POSTGRES_URL: nothing (the triggers stay switched off).
 */
export async function startRegistryReplica(ctx: AppContext, deps: CachedStores & { sql: Sql }) {
  const url = ctx.config.postgresUrl;
  if (!url) return { flush: undefined, onApplied: undefined, onRevoked: undefined };
  if (ctx.config.cluster === 'redis' && !ctx.config.credentialKeyFile) {
    // Each data directory's own key would hash what the others then cannot check: every device
    // registered through another node refused here, with nothing in the logs but refusals.
    throw new CodedError('credential_key_required', '集群共享设备登记需要共享凭据密钥 / GS_CREDENTIAL_KEY_FILE is required with GS_CLUSTER=redis and GS_POSTGRES_URL: the registry is shared, so every node must check secrets under the same key (docs/cluster.md "One credential key for the cluster")');
  }
  const log = ctx.logger.child({ module: 'registry-replica' });
  const report = (name: string, error: unknown) => log.error({ listener: name, err: error }, 'registry change listener failed');
  const applied = createListeners<[AppliedChanges]>(report);
  const revoked = createListeners<[Revoked]>(report);
  const replicator = createRegistryReplicator({
    local: createLocalReplica(deps.db),
    sql: deps.sql,
    nodeId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    listen: (onNotify) => listenPostgres({ url, channel: REGISTRY_CHANNEL, onNotify, onError: (error) => log.warn({ err: error }, 'registry LISTEN connection failed; polling until it is back') }),
    onApplied: async (changes) => {
      const lost = await refreshCaches(deps, changes);
      applied.emit(changes);
      if (lost.devices.length || lost.services.length) revoked.emit(lost);
    },
    logger: ctx.logger,
    metrics: ctx.metrics,
    ...ctx.options.registryReplica,
  });
  await replicator.start();
  return {
    replicator,
    /** Resolves once every registry change made so far is in PostgreSQL (the API awaits it before answering a write). */
    flush: replicator.flush,
    onApplied: (name: string, listener: (changes: AppliedChanges) => void) => applied.add(name, listener),
    onRevoked: (name: string, listener: (lost: Revoked) => void) => revoked.add(name, listener),
    stop: () => replicator.stop(),
  };
}
