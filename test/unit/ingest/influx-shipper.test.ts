import { describe, expect, it } from 'vitest';
import { createInfluxShipper, type ShipperLog } from '../../../ingest/influx-shipper.ts';
import type { InfluxHttp, WriteOutcome } from '../../../influx/http.ts';
import { createLogger } from '../../../lib/logger.ts';
import { sleep } from '../../../lib/sleep.ts';

/** A log of lines in memory with a cursor, as the shipper sees the durable log. */
function memoryLog(lines: string[]): ShipperLog & { committed: number } {
  const log = {
    committed: 0,
    read: (max: number) => (log.committed < lines.length ? { lines: lines.slice(log.committed, log.committed + max), next: { segment: 1, offset: Math.min(lines.length, log.committed + max), line: 0 } } : undefined),
    commit(next: { offset: number }) { log.committed = next.offset; },
    backlog: () => ({ lines: lines.length - log.committed, bytes: 0, oldestAgeMs: 0 }),
    onWritten: () => () => undefined,
  };
  return log;
}

describe('the InfluxDB shipper', () => {
  it('keeps shipping after a write fails with an exception (a connection reset while reading the answer)', async () => {
    const log = memoryLog(['m v=1 1', 'm v=2 2']);
    let calls = 0;
    const influx = {
      createDatabase: async () => undefined,
      write: async (): Promise<WriteOutcome> => {
        calls += 1;
        if (calls === 1) throw new TypeError('terminated');
        return { kind: 'ok' };
      },
    } as unknown as InfluxHttp;
    const shipper = createInfluxShipper({
      log, influx, batchSize: 10, flushMs: 1, backoff: { baseMs: 1, capMs: 5 },
      metrics: { pointsWritten: () => undefined, writeError: () => undefined, writeDuration: () => undefined, influxUp: () => undefined },
      logger: createLogger('silent'), onRefused: () => undefined, sleep, random: () => 0.5, now: () => Date.now(),
    });
    shipper.start();
    try {
      expect(await shipper.drain(2_000)).toBe(true);
      expect(log.committed).toBe(2);
    } finally {
      await shipper.stop();
    }
  });

  it('keeps shipping after reading the log fails once (an I/O error on a segment)', async () => {
    const log = memoryLog(['m v=1 1']);
    const read = log.read;
    let reads = 0;
    log.read = (max) => {
      reads += 1;
      if (reads === 1) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      return read(max);
    };
    const influx = { createDatabase: async () => undefined, write: async (): Promise<WriteOutcome> => ({ kind: 'ok' }) } as unknown as InfluxHttp;
    const shipper = createInfluxShipper({
      log, influx, batchSize: 10, flushMs: 1, backoff: { baseMs: 1, capMs: 5 },
      metrics: { pointsWritten: () => undefined, writeError: () => undefined, writeDuration: () => undefined, influxUp: () => undefined },
      logger: createLogger('silent'), onRefused: () => undefined, sleep, random: () => 0.5, now: () => Date.now(),
    });
    shipper.start();
    try {
      expect(await shipper.drain(2_000)).toBe(true);
      expect(log.committed).toBe(1);
    } finally {
      await shipper.stop();
    }
  });
});
