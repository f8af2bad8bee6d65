import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInfluxShipper, type ShipperLog } from '../../../durable-log/influx-shipper.ts';
import type { InfluxHttp, WriteOutcome } from '../../../influx/http.ts';
import { createLogger } from '../../../lib/logger.ts';
import { sleep } from '../../../lib/sleep.ts';
import { backlogOf, isBefore, readChunk, readLines, segmentName, type Cursor, type SegmentInfo } from '../../../durable-log/segments.ts';

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

/** A shipper over `log` and `influx` with quick retries and no metrics. */
const shipperOf = (log: ShipperLog, influx: InfluxHttp, flushMs = 1) => createInfluxShipper({
  log, influx, batchSize: 10, flushMs, backoff: { baseMs: 1, capMs: 5 },
  metrics: { pointsWritten: () => undefined, writeError: () => undefined, writeDuration: () => undefined, influxUp: () => undefined },
  logger: createLogger('silent'), onRefused: () => undefined, sleep, random: () => 0.5, now: () => Date.now(),
});

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
    const shipper = shipperOf(log, influx)
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
    const shipper = shipperOf(log, influx)
    shipper.start();
    try {
      expect(await shipper.drain(2_000)).toBe(true);
      expect(log.committed).toBe(1);
    } finally {
      await shipper.stop();
    }
  });
});

describe('the InfluxDB shipper in its thread, when the disk budget drops the segment it is about to read', () => {
  it('waits for the writer\'s next word instead of spinning on a segment file that is gone (the event loop keeps turning)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-ship-gone-'));
    try {
      // The shipper thread's view: segment 1 (its cursor is there) and segment 2. The writer
      // has just dropped segment 1 for the budget; the message saying so is a few ms away.
      const one = { index: 1, birth: Date.now() - 60_000, size: 8, lines: 1 };
      const two = { index: 2, birth: Date.now() - 30_000, size: 8, lines: 1 };
      writeFileSync(join(dir, segmentName(two)), 'm v=2 2\n');
      let segments: SegmentInfo[] = [one, two];
      let cursor: Cursor = { segment: 1, offset: 0, line: 0 };
      const listeners = new Set<() => void>();
      let reads = 0;
      const log: ShipperLog = {
        read: (max) => readLines(dir, segments, cursor, max),
        readChunk(max) {
          // Safety valve: a shipper that spins here starves every timer of this thread,
          // the test's included; after this many reads the view is fixed so the test ends.
          if (++reads === 100_000) tell();
          return readChunk(dir, segments, cursor, max);
        },
        commit(next) { if (isBefore(cursor, next)) cursor = next; },
        backlog: () => backlogOf(segments, cursor, Date.now()),
        onWritten(listener) { listeners.add(listener); return () => listeners.delete(listener); },
      };
      // The writer's word (the thread's 'durable' message): segment 1 is gone, the cursor moved on.
      const tell = (): void => {
        segments = [two];
        if (isBefore(cursor, { segment: 2, offset: 0, line: 0 })) cursor = { segment: 2, offset: 0, line: 0 };
        for (const l of listeners) l();
      };
      const stored: string[] = [];
      const influx = {
        createDatabase: async () => undefined,
        write: async (body: string | Buffer): Promise<WriteOutcome> => { stored.push(String(body)); return { kind: 'ok' }; },
      } as unknown as InfluxHttp;
      const shipper = shipperOf(log, influx, 5)
      shipper.start();
      try {
        await new Promise((resolve) => setTimeout(resolve, 4)); // the message arrives as a timer does
        tell();
        for (const deadline = Date.now() + 2_000; stored.length === 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 2));
        expect(stored.join('')).toContain('m v=2 2');
        expect(reads).toBeLessThan(100);
      } finally {
        await shipper.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
