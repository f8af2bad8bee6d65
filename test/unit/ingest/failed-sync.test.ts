import { mkdtempSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { soilDevice } from '../../fixtures/devices.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import { createIngest } from '../../../ingest/pipeline.ts';
import { openDurableLog } from '../../../durable-log/durable-log.ts';

const T0 = Date.UTC(2026, 4, 1, 6, 0, 0);
const SOIL = soilDevice();

/**
 * A failed fdatasync keeps the written lines in the log (the shipper may have sent them
 * already) and refuses the publish; the device sends the reading again. With its own
 * timestamp the resend is the same point. Without one, the server must give the resend
 * the timestamp it gave the original, or InfluxDB would store the reading twice.
 */
describe('a reading whose fdatasync fails, sent again', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function harness() {
    const dir = mkdtempSync(join(tmpdir(), 'gs-failed-sync-'));
    dirs.push(dir);
    const clock = createManualClock(T0);
    const log = await openDurableLog({ dir, clock, fsync: true, maxBytes: 1e9, onDrop: () => undefined });
    // The one fault we cannot cause on a real disk: fdatasync failing (EIO) once.
    const probe = await openFile(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO'), { code: 'EIO' }));
    const ingest = createIngest({
      lookup: { get: (id) => (id === SOIL.id ? SOIL : undefined), getByDevEui: () => undefined },
      append: (lines) => log.append(lines),
      appendLine: (line, sync) => log.appendLine(line, sync),
      syncPoint: () => log.syncPoint(),
      deadLetter: () => undefined,
      metrics: createMetrics({ defaults: false }),
      clock,
      logger: createLogger('silent'),
      limits: { maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000, maxPayloadBytes: 65_536 },
    });
    return { log, clock, ingest };
  }
  const timeOf = (line: string) => line.slice(line.lastIndexOf(' ') + 1);

  it('without a device timestamp: the resend gets the original\'s, so both lines are one point', async () => {
    const { log, clock, ingest } = await harness();
    const msg = { topic: 'gs/soil-1/up', payload: Buffer.from('{"seq":7,"moisture":21}'), qos: 1 as const };
    await expect(ingest.handle(msg)).rejects.toThrow('EIO');
    clock.advance(2_000);
    await ingest.handle(msg);
    const lines = log.read(100)!.lines;
    await log.close();
    expect(lines).toHaveLength(2); // the failed write is kept: the shipper may have sent it
    expect(new Set(lines).size).toBe(1); // the same series, fields and time: one point in InfluxDB
    expect(timeOf(lines[1]!)).toBe(String(T0)); // received 2 s later, stamped with the original's receive time
  });

  it('a later, different reading still gets a time of its own', async () => {
    const { log, clock, ingest } = await harness();
    await expect(ingest.handle({ topic: 'gs/soil-1/up', payload: Buffer.from('{"seq":7,"moisture":21}'), qos: 1 })).rejects.toThrow('EIO');
    clock.advance(2_000);
    await ingest.handle({ topic: 'gs/soil-1/up', payload: Buffer.from('{"seq":8,"moisture":22}'), qos: 1 });
    const lines = log.read(100)!.lines;
    await log.close();
    expect(lines.map(timeOf)).toEqual([String(T0), String(T0 + 2_000)]);
  });
});
