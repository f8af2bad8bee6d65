import { Redis } from 'ioredis';
import { createLogger } from '../../lib/logger.ts';
import { createRedisLeaseStore } from '../../cluster/redis-lease-store.ts';
import { createOwnership } from '../../cluster/ownership.ts';

/**
 * A node that only holds community leases (REDIS_URL, NODE_ID, KEYS comma-separated),
 * printing `owned N` whenever its share changes: the process a kill test kills with -9.
 */
const redis = new Redis(process.env.REDIS_URL!);
const ownership = createOwnership({
  store: createRedisLeaseStore(redis),
  nodeId: process.env.NODE_ID!,
  keys: () => process.env.KEYS!.split(','),
  logger: createLogger('silent'),
  onChange: (owned) => process.stdout.write(`owned ${owned.size}\n`),
});
await ownership.start();
process.stdout.write(`started ${ownership.owned().size}\n`);
