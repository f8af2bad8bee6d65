import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectRedisBrokerTier, redactRedisUrl } from '../cluster/redis-tier.ts';
import { createRedisDedup, startDedupHeartbeat } from '../cluster/redis-dedup.ts';
import { createRedisAckReplica, REPLICA_WAIT_MS } from '../cluster/redis-ack-replica.ts';
import { startAckRecovery } from '../cluster/ack-recovery.ts';
import type { DurableLogFeature } from './durable-log.ts';
import { createRedisLeaseStore } from '../cluster/redis-lease-store.ts';
import { createClusterOwnership, ownsEverything, type CommunityOwnership } from '../cluster/community-ownership.ts';
import { createReadingRelay, type RelayEmitter } from '../cluster/reading-relay.ts';
import { createZoneForward } from '../cluster/zone-forward.ts';
import { createAppliedActions } from '../irrigation/applied-actions.ts';
import type { Sql } from '../registry/sql/port.ts';
import { performRequest } from '../irrigation/operator-actions.ts';
import type { IrrigationEngine } from '../irrigation/engine.ts';
import { isReadingTopic } from '../ingest/pipeline.ts';
import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { createCityRegistry } from '../registry/city.ts';
import type { AppContext } from './context.ts';

/** A lease command that does not answer in this long fails the round (ownership.ts gives up leases it cannot renew in time). */
const LEASE_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The clustered mode's shared parts (GS_CLUSTER=redis), started before the ingest and the
 * broker that use them and stopped after them: the broker tier (aedes' bus and
 * persistence over Redis), the duplicate filter the nodes share, the community leases
 * (not running until `startOwnershipFeature`) and the relay of readings to their
 * community's owner. One process: nothing of that, no Redis needed, and it owns every
 * community (`ownsEverything`): the features it gates behave as they always did.
 */
export async function startClusterFeature(ctx: AppContext, deps: { city: Pick<ReturnType<typeof createCityRegistry>, 'listCommunities'>; devices: { get(id: string): DeviceInfo | undefined } }) {
  const { config, logger } = ctx;
  if (config.cluster !== 'redis' || !config.redisUrl) {
    return { tier: undefined, dedup: undefined, nodeId: undefined, ownership: ownsEverything, leases: undefined, relay: undefined };
  }
  const tier = await connectRedisBrokerTier(config.redisUrl, logger, isReadingTopic, {
    onDrop: (topic) => ctx.metrics.clusterBusDropped.inc({ kind: isReadingTopic(topic) ? 'reading' : 'other' }),
  });
  // One name per process start: a node restarted on the same host is another claimant.
  const nodeId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  logger.info({ nodeId }, 'clustered node');
  if (!config.credentialKeyFile) {
    // A warning, not a refusal, without GS_POSTGRES_URL (with it the registry is shared and the
    // key required: app/registry-replica.ts): each node then checks the secrets it hashed
    // itself, so nodes with their own keys work; what breaks is a registry copied between them.
    logger.warn({ setting: 'GS_CREDENTIAL_KEY_FILE', dataDir: config.dataDir }, '集群节点未设置共享凭据密钥 / clustered node without GS_CREDENTIAL_KEY_FILE: device secrets are hashed under this data directory\'s own credential-key, so a registry copied or shared from another node will refuse its devices; give every node the same key file');
  }
  // Its own connection, failing fast: a lease round must fail while Redis is away (and give
  // the leases up before they expire), not wait in the persistence connection's queue.
  const leaseConn = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, commandTimeout: LEASE_COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 0 });
  leaseConn.on('error', (error: Error) => logger.debug({ module: 'ownership', err: error, redis: redactRedisUrl(config.redisUrl!) }, 'lease connection error'));
  try {
    await leaseConn.connect();
  } catch (error) {
    await tier.close();
    throw error;
  }
  const leases = createClusterOwnership({
    store: createRedisLeaseStore(leaseConn),
    nodeId,
    communities: () => deps.city.listCommunities().map((c) => c.id),
    ...ctx.options.ownership,
    logger,
  });
  leases.ownership.onChange('metrics', () => ctx.metrics.clusterOwned.set(leases.owned().size));
  const relay = createReadingRelay({
    nodeId, mq: tier.mq as RelayEmitter, ownership: leases.ownership, deliver: ctx.readings.emit, lookup: (id) => deps.devices.get(id), metrics: ctx.metrics, logger,
  });
  const heartbeat = startDedupHeartbeat(tier.redis, nodeId, logger.child({ module: 'cluster-dedup' }));
  return {
    tier,
    nodeId,
    dedup: createRedisDedup(tier.redis, logger, { nodeId, liveness: true }),
    ownership: leases.ownership as CommunityOwnership,
    leases,
    relay,
    /** After the broker closed its bus: the lease and persistence connections. */
    async stop(): Promise<void> {
      heartbeat.stop();
      leaseConn.disconnect();
      await tier.close();
    },
  };
}

/**
 * Where the ingest hands accepted readings: the reading listeners in one process; in a
 * cluster the relay, which delivers the readings of communities this node owns and sends
 * the others to their owner.
 */
export const readingsOutlet = (ctx: AppContext, cluster: { relay: ReturnType<typeof createReadingRelay> | undefined }): ((reading: AcceptedReading, device: DeviceInfo) => void) =>
  cluster.relay ? (reading, device) => cluster.relay!.accepted(reading, device) : ctx.readings.emit;

/**
 * The owner's work begins (clustered): relayed readings are consumed and the first share
 * of communities is taken, once the features that act on a community (health, irrigation)
 * listen for ownership changes and before devices are let in. Stopping hands the leases
 * back, so the others take the communities at their next round instead of after expiry.
 */
export async function startOwnershipFeature(cluster: Awaited<ReturnType<typeof startClusterFeature>>) {
  const { relay, leases } = cluster;
  if (!relay || !leases) return {};
  await relay.start();
  await leases.start();
  return {
    async stop(): Promise<void> {
      await leases.stop();
      await relay.stop();
    },
  };
}

/**
 * Clustered: operator actions on a zone this node does not own go to the owner over the bus,
 * and this node answers actions forwarded to it for the zones it owns
 * (cluster/zone-forward.ts). Listening before the API does; stopped after it. One process:
 * nothing (it owns every zone).
 */
export async function startZoneForwardFeature(ctx: AppContext, cluster: Awaited<ReturnType<typeof startClusterFeature>>, engine: IrrigationEngine, sql: Sql) {
  if (!cluster.tier || !cluster.nodeId) return { forward: undefined };
  // With a shared PostgreSQL the applied correlation ids are the cluster's: a repeat reaching a new owner is answered, not run again.
  const applied = sql.dialect === 'postgres' ? createAppliedActions(sql, { nodeId: cluster.nodeId, logger: ctx.logger.child({ module: 'zone-forward' }) }) : undefined;
  const zoneForward = createZoneForward({
    ...(applied ? { applied, owns: (zoneId: string) => engine.isOwned(zoneId) } : {}),
    nodeId: cluster.nodeId,
    mq: cluster.tier.mq as RelayEmitter,
    perform: (request) => (engine.isOwned(request.zoneId) ? performRequest(engine, request.zoneId, request.action, request.body, request.by) : undefined),
    metrics: ctx.metrics,
    logger: ctx.logger,
    ...ctx.options.zoneForward,
  });
  await zoneForward.start();
  return { forward: zoneForward.forward, zoneForward, stop: () => zoneForward.stop() };
}

/**
 * Clustered, unless GS_CLUSTER_ACK_REPLICA=off: every durable-log write is copied to this
 * node's stream in Redis before its PUBACK (at most REPLICA_WAIT_MS, then the node's disk
 * alone, counted), trimmed as InfluxDB confirms; and this node writes the copies of a node
 * whose heartbeat lapsed (cluster/redis-ack-replica.ts, cluster/ack-recovery.ts). On a
 * connection of its own that fails fast: a PUBACK must never wait in a queue for a Redis that
 * is away. One process: nothing.
 */
export async function startAckReplicaFeature(ctx: AppContext, cluster: Awaited<ReturnType<typeof startClusterFeature>>, log: DurableLogFeature) {
  const { config, logger, metrics } = ctx;
  if (!cluster.nodeId || !config.redisUrl || config.ackReplica === 'off') return {};
  const conn = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, commandTimeout: REPLICA_WAIT_MS, maxRetriesPerRequest: 0 });
  conn.on('error', (error: Error) => logger.debug({ module: 'ack-replica', err: error, redis: redactRedisUrl(config.redisUrl!) }, 'replica connection error'));
  try {
    await conn.connect();
  } catch (error) {
    conn.disconnect();
    throw error;
  }
  const replica = createRedisAckReplica({ redis: conn, nodeId: cluster.nodeId, logger, onFallback: (reason, points) => metrics.clusterAckFallback.inc({ reason }, points) });
  log.attachReplica(replica);
  const recovery = startAckRecovery({ redis: conn, nodeId: cluster.nodeId, append: (lines) => log.durableLog.append(lines), onRecovered: (n) => metrics.clusterAckRecovered.inc(n), logger });
  return { stop: () => recovery.stop() };
}
