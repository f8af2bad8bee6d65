import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { createRefusalLog } from '../../../lib/refusal-log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', destination) };
}

/** A timer the test fires by hand. */
function manualTimer() {
  let tick: (() => void) | undefined;
  return {
    timer: {
      setInterval: ((fn: () => void) => { tick = fn; return 0; }) as unknown as typeof setInterval,
      clearInterval: (() => { tick = undefined; }) as unknown as typeof clearInterval,
    },
    fire: () => tick?.(),
  };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('refusal log', () => {
  it('writes 1,000 refusals of two reasons from two addresses as a handful of lines, counts exact', async () => {
    const { lines, logger } = capture();
    const { timer, fire } = manualTimer();
    const log = createRefusalLog({ logger, timer });
    for (let i = 0; i < 1_000; i++) log.note(i % 2 ? 'subscribe_denied' : 'malformed_packet', i % 4 < 2 ? '10.0.0.1' : '10.0.0.2', 'refused', { clientId: `c${i}` });
    fire();
    await flushed();
    expect(lines.length).toBeLessThanOrEqual(8);
    const first = lines.filter((l) => l.msg === 'refused');
    const repeats = lines.filter((l) => l.msg === 'refusals repeated');
    expect(first).toHaveLength(4); // one per (reason, address), with its details
    expect(first[0]).toMatchObject({ reason: 'malformed_packet', address: '10.0.0.1', clientId: 'c0' });
    expect(repeats.reduce((sum, l) => sum + Number(l.repeats), 0) + first.length).toBe(1_000);
  });

  it('logs the first refusal of the next interval again, and nothing for an interval without repeats', async () => {
    const { lines, logger } = capture();
    const { timer, fire } = manualTimer();
    const log = createRefusalLog({ logger, timer });
    log.note('publish_denied', 'a', 'publish refused');
    fire();
    log.note('publish_denied', 'a', 'publish refused');
    fire();
    await flushed();
    expect(lines.map((l) => l.msg)).toEqual(['publish refused', 'publish refused']);
  });

  it('stays bounded when every refusal comes from a new address: past maxKeys they share one line per reason', async () => {
    const { lines, logger } = capture();
    const { timer } = manualTimer();
    const log = createRefusalLog({ logger, timer, maxKeys: 10 });
    for (let i = 0; i < 1_000; i++) log.note('connect_rate_limited', `10.1.${i >> 8}.${i & 255}`, 'connect rate limit exceeded');
    log.close();
    await flushed();
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toMatchObject({ reason: 'connect_rate_limited', address: 'others', repeats: 990 });
  });
});
