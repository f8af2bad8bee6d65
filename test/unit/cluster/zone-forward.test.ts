import { describe, expect, it } from 'vitest';
import MQEmitter from 'mqemitter';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import { createZoneForward, ZONE_ACTION_PREFIX, ZONE_REPLY_PREFIX, type ZoneActionRequest } from '../../../cluster/zone-forward.ts';
import type { RelayEmitter } from '../../../cluster/reading-relay.ts';
import { counterValue } from '../../helpers/cluster.ts';

/**
 * The forwarding protocol on mqemitter in memory (the same emitter mqemitter-redis extends;
 * the two-node behaviour over Redis is test/integration/cluster/zone-forward.test.ts):
 * what crosses the bus is checked both ways and bounded.
 */
describe('zone action forwarding: the checks on the bus', () => {
  const setup = (perform: (r: ZoneActionRequest) => ReturnType<Parameters<typeof createZoneForward>[0]['perform']>) => {
    const mq = MQEmitter() as unknown as RelayEmitter;
    const metrics = createMetrics({ defaults: false });
    const performed: ZoneActionRequest[] = [];
    const owner = createZoneForward({ nodeId: 'owner', mq, metrics, logger: createLogger('silent'), perform: (r) => { performed.push(r); return perform(r); } });
    const asker = createZoneForward({ nodeId: 'asker', mq, metrics: createMetrics({ defaults: false }), logger: createLogger('silent'), perform: () => undefined, timeoutMs: 300, resendMs: 100 });
    const emit = (topic: string, payload: Buffer) => new Promise<void>((resolve) => { mq.emit({ topic, payload }, () => resolve()); });
    return { mq, metrics, owner, asker, performed, emit };
  };

  it('a request too large, malformed, with an unknown action or on another community\'s topic is refused, not run', async () => {
    const { metrics, owner, performed, emit } = setup(() => ({ status: 202, body: { decisions: [] } }));
    await owner.start();
    const good = { id: '7f1c9a52-1b7e-4d0e-9a43-3c1f6f1d2b10', origin: 'asker', community: 'c1', zoneId: 'z1', action: 'water-now', body: {}, by: 'admin' };
    await emit(`${ZONE_ACTION_PREFIX}c1`, Buffer.alloc(17 * 1024, 0x20));
    await emit(`${ZONE_ACTION_PREFIX}c1`, Buffer.from('{not json'));
    await emit(`${ZONE_ACTION_PREFIX}c1`, Buffer.from(JSON.stringify({ ...good, action: 'flood' })));
    await emit(`${ZONE_ACTION_PREFIX}c1`, Buffer.from(JSON.stringify({ ...good, extra: 1 })));
    await emit(`${ZONE_ACTION_PREFIX}c2`, Buffer.from(JSON.stringify(good)));
    expect(performed).toEqual([]);
    expect(await counterValue(metrics.clusterZoneForward, { outcome: 'refused' })).toBe(5);
    await emit(`${ZONE_ACTION_PREFIX}c1`, Buffer.from(JSON.stringify(good)));
    expect(performed).toEqual([good]);
  });

  it('an answer that is not one (bad schema, a status out of range) is ignored: the asker times out with 503', async () => {
    const { asker, emit } = setup(() => undefined); // nobody owns the zone
    await asker.start();
    const pending = asker.forward({ communityId: 'c1', zoneId: 'z1', action: 'skip-next', body: {}, by: 'admin', id: '0b9f7d1e-58c2-4a4b-8f57-2d6a1c0e9b33' });
    await emit(`${ZONE_REPLY_PREFIX}asker`, Buffer.from(JSON.stringify({ id: '0b9f7d1e-58c2-4a4b-8f57-2d6a1c0e9b33', status: 99, body: { decisions: [] } })));
    await emit(`${ZONE_REPLY_PREFIX}asker`, Buffer.from(JSON.stringify({ id: '0b9f7d1e-58c2-4a4b-8f57-2d6a1c0e9b33', status: 202, body: { decisions: 'all' } })));
    const answer = await pending;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ error: 'owner_unavailable' });
  });

  it('an answer is checked against what was asked: a view answered with an action\'s body is ignored (503)', async () => {
    const { asker, emit } = setup(() => undefined);
    await asker.start();
    const id = '6c1e2f4a-7b3d-4e8f-9a0b-1c2d3e4f5a6b';
    const pending = asker.forward({ communityId: 'c1', zoneId: 'z1', action: 'irrigation-view', body: {}, by: 'admin', id });
    await emit(`${ZONE_REPLY_PREFIX}asker`, Buffer.from(JSON.stringify({ id, status: 200, body: { decisions: [] } })));
    const answer = await pending;
    expect(answer.status).toBe(503);
  });

  it('the owner runs a request once and answers its repeats from memory', async () => {
    let n = 0;
    const { owner, asker, performed } = setup(() => ({ status: 202, body: { decisions: [], message: `run ${++n}` } }));
    await owner.start();
    await asker.start();
    const id = '3d2b6a0c-9e4f-4b1a-8c77-5e0f2a9d6c41';
    const first = await asker.forward({ communityId: 'c1', zoneId: 'z1', action: 'water-now', body: { durationS: 60 }, by: 'admin', id });
    const second = await asker.forward({ communityId: 'c1', zoneId: 'z1', action: 'water-now', body: { durationS: 60 }, by: 'admin', id });
    expect(first).toEqual({ status: 202, body: { decisions: [], message: 'run 1' } });
    expect(second).toEqual(first);
    expect(performed).toHaveLength(1);
  });
});
