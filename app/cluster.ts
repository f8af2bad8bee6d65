import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { connectRedisBrokerTier } from '../cluster/redis-tier.ts';
import { createRedisDedup } from '../cluster/redis-dedup.ts';
import { isReadingTopic } from '../ingest/pipeline.ts';
import type { AppContext } from './context.ts';

/**
 * The clustered mode's shared parts (GS_CLUSTER=redis), started before the ingest and the
 * broker that use them and stopped after them: the broker tier (aedes' bus and
 * persistence over Redis) and the duplicate filter the nodes share. Nothing in one-process
 * mode, and no Redis needed. A node whose Redis does not answer refuses to start.
 */
export async function startClusterFeature(ctx: AppContext) {
  const { config, logger } = ctx;
  if (config.cluster !== 'redis' || !config.redisUrl) return { tier: undefined, dedup: undefined, nodeId: undefined };
  const tier = await connectRedisBrokerTier(config.redisUrl, logger, isReadingTopic);
  // One name per process start: a node restarted on the same host is another claimant.
  const nodeId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  logger.info({ nodeId }, 'clustered node');
  return {
    tier,
    nodeId,
    dedup: createRedisDedup(tier.redis, logger, { nodeId }),
    /** After the broker closed its bus: the persistence's connection. */
    stop: () => tier.close(),
  };
}
