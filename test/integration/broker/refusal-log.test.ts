import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { connect } from '../../helpers/mqtt.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { metricValue, subscribeGranted, tryConnect } from './support.ts';

const DENIED_SUBSCRIPTIONS = 990;
const WRONG_PASSWORDS = 10;

/**
 * Issue 19: a fuzzing minute wrote 6,894 warn lines, one per refused packet. 1,000
 * refusals through the real broker must now reach the log as a handful of lines (the
 * first of each reason and address, then one count each), while /metrics counts every one.
 */
describe('refusals under abuse reach the log aggregated', () => {
  let t: TestApp;
  let stopped = false;
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });

  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'info' }, { logger: createLogger('info', destination) });
  });
  afterAll(async () => {
    if (!stopped) await t?.stop();
  });

  it(`writes ${DENIED_SUBSCRIPTIONS + WRONG_PASSWORDS} refusals as a few lines`, async () => {
    const secret = await t.register({ id: 'nosy-1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    const client = await connect(t.app.mqttPort, { clientId: 'nosy-1', username: 'nosy-1', password: secret });
    for (let i = 0; i < WRONG_PASSWORDS; i++) {
      const o = await tryConnect(t.app.mqttPort, { clientId: 'nosy-1', username: 'nosy-1', password: `guess-${i}` });
      o.client.end(true);
    }
    const start = lines.length;
    const startedAt = performance.now();
    for (let i = 0; i < DENIED_SUBSCRIPTIONS; i++) expect(await subscribeGranted(client, `gs/other-${i}/down`)).toBe(128);
    client.end(true);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'subscribe_denied' })).toBe(DENIED_SUBSCRIPTIONS);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'bad_credentials' })).toBe(WRONG_PASSWORDS);

    // Two reasons from one address: a first line and a count each per 10 s interval the run
    // spans (one on a quiet machine; a busy one may cross into the next).
    const intervals = Math.ceil((performance.now() - startedAt) / 10_000) + 1;
    stopped = true;
    await t.stop(); // the interval's counts are written at close
    const refusalLines = lines.filter((l) => typeof l.reason === 'string');
    console.info(`1,000 refusals: ${refusalLines.length} log lines (${lines.length - start} lines in all while they came)`);
    expect(lines.length - start).toBeLessThan(5 * intervals + 5);
    expect(refusalLines.length).toBeLessThanOrEqual(4 * intervals);
    const counted = (reason: string) => refusalLines.filter((l) => l.reason === reason).reduce((sum, l) => sum + (l.msg === 'refusals repeated' ? Number(l.repeats) : 1), 0);
    expect(counted('subscribe_denied')).toBe(DENIED_SUBSCRIPTIONS);
    expect(counted('connect_bad_credentials')).toBe(WRONG_PASSWORDS);
  }, 120_000);
});
