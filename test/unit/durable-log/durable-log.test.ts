import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { open as openFile } from 'node:fs/promises';
import { openDurableLog, type Cursor, type DurableLog, type Replica } from '../../../durable-log/durable-log.ts';
import { segmentName } from '../../../durable-log/segments.ts';
import { createManualClock } from '../../../lib/clock.ts';

const dirs: string[] = [];
const logs: DurableLog[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const log of logs.splice(0)) await log.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function open(dir: string, options: { maxBytes?: number; segmentBytes?: number; freeBytes?: () => Promise<number> } = {}) {
  const clock = createManualClock(1_000_000);
  const dropped: number[] = [];
  const log = await openDurableLog({
    dir, clock, fsync: true, maxBytes: options.maxBytes ?? 1e9, segmentBytes: options.segmentBytes, onDrop: (n) => dropped.push(n),
    ...(options.freeBytes ? { freeBytes: options.freeBytes } : {}),
  });
  logs.push(log);
  return { log, clock, dropped };
}

const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-durable-log-'));
  dirs.push(dir);
  return dir;
};

const lines = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `m v=${from + i} ${from + i}`);

/** Drain the log as the shipper would, committing after each batch. */
function drain(log: DurableLog, batch = 1000): string[] {
  const out: string[] = [];
  for (let b = log.read(batch); b && b.lines.length > 0; b = log.read(batch)) {
    out.push(...b.lines);
    log.commit(b.next);
  }
  return out;
}

describe('durable log', () => {
  it('returns appended lines in order and forgets what was committed', async () => {
    const { log } = await open(tempDir());
    await Promise.all([log.append(lines(0, 3)), log.append(lines(3, 2))]);
    expect(log.backlog().lines).toBe(5);
    const first = log.read(2)!;
    expect(first.lines).toEqual(lines(0, 2));
    log.commit(first.next);
    expect(log.backlog().lines).toBe(3);
    expect(drain(log)).toEqual(lines(2, 3));
    expect(log.backlog()).toEqual({ lines: 0, bytes: 0, oldestAgeMs: 0 });
    expect(log.read(10)).toBeUndefined();
  });

  it('survives a restart: what was not committed is read again, what was is not', async () => {
    const dir = tempDir();
    const a = await open(dir);
    await a.log.append(lines(0, 10));
    const batch = a.log.read(4)!;
    a.log.commit(batch.next);
    await a.log.close();
    const b = await open(dir);
    expect(b.log.backlog().lines).toBe(6);
    expect(drain(b.log)).toEqual(lines(4, 6));
  });

  it('drops a torn last line left by a crash mid-write', async () => {
    const dir = tempDir();
    const a = await open(dir);
    await a.log.append(lines(0, 3));
    await a.log.close();
    const segment = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    appendFileSync(join(dir, segment), 'm v=99 9'); // no newline: the append never completed
    const b = await open(dir);
    expect(b.log.backlog().lines).toBe(3);
    await b.log.append(lines(3, 1));
    expect(drain(b.log)).toEqual(lines(0, 4));
  });

  it('rolls over to new segments and deletes the ones fully shipped', async () => {
    const dir = tempDir();
    const { log } = await open(dir, { segmentBytes: 64 * 1024 });
    for (let i = 0; i < 20; i++) await log.append(lines(i * 500, 500)); // ~7 KB each
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(1);
    expect(drain(log, 700)).toEqual(lines(0, 10_000));
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
  });

  it('keeps to its disk budget by dropping the oldest segments, and counts every dropped line', async () => {
    const dir = tempDir();
    const { log, dropped } = await open(dir, { maxBytes: 256 * 1024 });
    for (let i = 0; i < 100; i++) await log.append(lines(i * 500, 500));
    const kept = log.backlog();
    expect(kept.bytes).toBeLessThanOrEqual(256 * 1024);
    const shipped = drain(log);
    expect(shipped.length).toBe(kept.lines);
    expect(dropped.reduce((a, b) => a + b, 0) + shipped.length).toBe(50_000);
    expect(shipped.at(-1)).toBe('m v=49999 49999'); // the newest survive
  });

  it('reports the age of the oldest unshipped line', async () => {
    const { log, clock } = await open(tempDir());
    await log.append(lines(0, 1));
    clock.advance(30_000);
    expect(log.backlog().oldestAgeMs).toBe(30_000);
  });
});

describe('durable log, after a failed append left bytes behind', () => {
  it('writes each append where its segment table says, so stray bytes past it are overwritten, never read', async () => {
    const dir = tempDir();
    const { log, clock } = await open(dir, { segmentBytes: 64 * 1024 });
    const big = lines(0, 6_000); // over 64 KiB: the next append starts a new segment
    await log.append(big);
    // What a partial write that then failed (ENOSPC, EIO on fdatasync) leaves: bytes past the
    // recorded size. Placed here in the segment the next append opens, whose name is known.
    appendFileSync(join(dir, segmentName({ index: 2, birth: clock.now() })), 'soil,device=half-writ');
    await log.append(lines(10_000, 2));
    expect(drain(log, 10_000)).toEqual([...big, ...lines(10_000, 2)]);
  });

  it('group-commits the appends of one turn: one promise, one write, lines in order', async () => {
    const { log } = await open(tempDir());
    const a = log.append(lines(0, 2));
    const b = log.appendLine('m v=2 2');
    const c = log.appendLine('m v=3 3', false); // a QoS 0 point: written with the group, owed no fdatasync
    expect(b).toBe(a);
    expect(c).toBe(a);
    await a;
    expect(drain(log)).toEqual(lines(0, 4));
  });

  it('keeps every line byte for byte: UTF-8 tags, long lines, groups that outgrow their buffers, buffers used again', async () => {
    const { log } = await open(tempDir());
    const made = (i: number): string => `soil,community=松江-${i % 7}\\ 泗泾,device=d-${i},zone=🌱${i % 3} moisture=${(i % 997) / 10},note="${'泗'.repeat(i % 60)}${'x'.repeat(i % 400 === 0 ? 70_000 : i % 50)}" ${i}`;
    const expected: string[] = [];
    for (let round = 0; round < 4; round++) {
      // A burst of ~9,000 lines: three groups at 4,096, each past its first 64 KiB buffer.
      const appended = Array.from({ length: 9_000 }, (_, k) => made(round * 9_000 + k));
      const done = appended.map((line) => log.appendLine(line, round % 2 === 0));
      expected.push(...appended);
      await Promise.all(done);
    }
    expect(drain(log, 5_000)).toEqual(expected);
  });

  it('a segment that cannot be opened refuses the write that needed it, and the next write rotates', async () => {
    const dir = tempDir();
    const { log } = await open(dir, { segmentBytes: 64 * 1024 });
    const long = (i: number): string => `m v=${i},pad="${'x'.repeat(1_000)}" ${i}`;
    const batch = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => long(from + i));
    // The next segment's file name is taken by a directory: open() fails with EISDIR, even for root.
    const blocker = join(dir, segmentName({ index: 2, birth: 1_000_000 }));
    mkdirSync(blocker);
    await log.append(batch(0, 60)); // ~61 KiB: the first segment is nearly full
    await expect(log.append(batch(60, 10))).rejects.toThrow(/EISDIR/);
    await log.append(batch(70, 2)); // fits in the old segment, still open: written there
    await expect(log.append(batch(80, 10))).rejects.toThrow(/EISDIR/); // still blocked: refused, not lost
    rmSync(blocker, { recursive: true });
    await log.append(batch(100, 10));
    expect(drain(log, 1_000)).toEqual([...batch(0, 60), ...batch(70, 2), ...batch(100, 10)]);
  });

  it('starts with a directory named like a segment in its folder, and leaves it alone', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.log.append(lines(0, 3));
    await first.log.close();
    const stray = join(dir, segmentName({ index: 7, birth: 1_000_000 }));
    mkdirSync(stray);
    const { log } = await open(dir);
    expect(drain(log)).toEqual(lines(0, 3));
    await log.append(lines(3, 1));
    expect(drain(log)).toEqual(lines(3, 1));
    expect(readdirSync(dir)).toContain(segmentName({ index: 7, birth: 1_000_000 }));
  });

  it('splits a burst into bounded groups that commit in order', async () => {
    const { log } = await open(tempDir());
    const promises = Array.from({ length: 10_000 }, (_, i) => log.appendLine(`m v=${i} ${i}`));
    const groups = [...new Set(promises)];
    expect(groups.length).toBeGreaterThanOrEqual(3); // at most 4,096 points each
    const order: number[] = [];
    groups.forEach((g, i) => void g.then(() => order.push(i)));
    await Promise.all(groups);
    expect(order).toEqual(groups.map((_, i) => i));
    expect(drain(log, 5_000)).toEqual(lines(0, 10_000));
  });

  it('lets the shipper read a group once it is written, before its fdatasync settles the appenders', async () => {
    const { log } = await open(tempDir());
    const events: string[] = [];
    let readable: string[] = [];
    log.onWritten(() => {
      events.push('shipper woken');
      readable = log.read(10)?.lines ?? [];
      // The fdatasync is still running: the next turn of the event loop comes first.
      setImmediate(() => events.push('next turn'));
    });
    const done = log.append(lines(0, 3)).then(() => events.push('appenders settled'));
    await done;
    expect(events).toEqual(['shipper woken', 'next turn', 'appenders settled']);
    expect(readable).toEqual(lines(0, 3));
  });

  /** fdatasync held until the test lets it go (or fails it): a slow disk, on the real file. */
  async function holdSyncs(dir: string) {
    const probe = await openFile(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const real = proto.datasync;
    const held: Array<{ release: () => void; fail: (e: Error) => void }> = [];
    vi.spyOn(proto, 'datasync').mockImplementation(function (this: unknown) {
      return new Promise<void>((resolve, reject) => held.push({
        release: () => void real.call(this).then(resolve, reject),
        fail: reject,
      }));
    });
    return held;
  }
  const turns = async (n = 5) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };
  const until = async (check: () => boolean) => {
    for (const deadline = Date.now() + 5_000; !check();) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  it('writes the next group while the previous group\'s fdatasync is still running, and settles them in order', async () => {
    const dir = tempDir();
    const { log } = await open(dir);
    const held = await holdSyncs(dir);
    const order: string[] = [];
    const first = log.append(lines(0, 2)).then(() => order.push('first'));
    await until(() => held.length === 1); // the first group's sync, held
    const second = log.append(lines(2, 2)).then(() => order.push('second'));
    // Written (the shipper can read it) though the sync before it has not finished.
    await until(() => log.read(10)!.lines.length === 4);
    expect(log.read(10)!.lines).toEqual(lines(0, 4));
    await turns();
    expect(order).toEqual([]);
    expect(held).toHaveLength(1);
    held[0]!.release();
    await until(() => held.length === 2); // the second group's own sync
    expect(order).toEqual(['first']);
    held[1]!.release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('a failed fdatasync refuses every group written before the failure, and later ones are synced anew', async () => {
    const dir = tempDir();
    const { log } = await open(dir);
    const held = await holdSyncs(dir);
    const first = log.append(lines(0, 1));
    await until(() => held.length === 1);
    // Written while the first sync runs: its pages may be in the writeback that fails, and
    // Linux reports that once, so a later sync succeeding would not prove it is on disk.
    const second = log.append(lines(1, 1));
    await until(() => log.read(10)!.lines.length === 2);
    held[0]!.fail(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(first).rejects.toThrow('EIO');
    await expect(second).rejects.toThrow('EIO');
    const third = log.append(lines(2, 1));
    await until(() => held.length === 2);
    held[1]!.release();
    await expect(third).resolves.toBeUndefined();
    expect(log.read(10)!.lines).toEqual(lines(0, 3)); // kept: the shipper may have sent them
  });

  it('a write that fails while an earlier group\'s sync runs is refused after that group settles (append order)', async () => {
    const dir = tempDir();
    const { log } = await open(dir);
    const held = await holdSyncs(dir);
    const probe = await openFile(join(dir, 'probe2'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: () => Promise<unknown> };
    await probe.close();
    const order: string[] = [];
    const first = log.append(lines(0, 1)).then(() => order.push('first ok'), () => order.push('first failed'));
    await until(() => held.length === 1);
    vi.spyOn(proto, 'write').mockRejectedValueOnce(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
    const second = log.append(lines(1, 1)).then(() => order.push('second ok'), () => order.push('second failed'));
    await turns(20);
    expect(order).toEqual([]);
    held[0]!.release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first ok', 'second failed']);
    expect(log.read(10)!.lines).toEqual(lines(0, 1)); // the failed write left nothing
  });

  it('syncPoint syncs a QoS 0 write made while an earlier syncPoint\'s fdatasync was running', async () => {
    const dir = tempDir();
    const { log } = await open(dir);
    const held = await holdSyncs(dir);
    await log.appendLine('m v=0 0', false);
    const first = log.syncPoint();
    await until(() => held.length === 1);
    await log.appendLine('m v=1 1', false); // written during that sync: maybe not covered
    held[0]!.release();
    await first;
    let done = false;
    const second = log.syncPoint().then(() => { done = true; });
    await until(() => held.length === 2); // a sync of its own
    expect(done).toBe(false);
    held[1]!.release();
    await second;
  });

  it('syncPoint settles only after every group written before it did: a refusal still queued behind other groups counts', async () => {
    const dir = tempDir();
    const { log } = await open(dir);
    const probe = await openFile(join(dir, 'probe3'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown>; truncate: (n: number) => Promise<void>; datasync: () => Promise<void> };
    await probe.close();
    const realWrite = proto.write;
    let writes = 0;
    vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      return ++writes === 1 ? realWrite.apply(this, args) : Promise.reject(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
    });
    const syncs: Array<() => void> = [];
    vi.spyOn(proto, 'datasync').mockImplementation(() => new Promise<void>((resolve) => syncs.push(resolve)));
    const truncates: Array<() => void> = [];
    vi.spyOn(proto, 'truncate').mockImplementation(() => new Promise<void>((resolve) => truncates.push(resolve)));
    // Three groups in one write: once synced they settle one per turn.
    const earlier = Array.from({ length: 3 * 4096 }, (_, i) => log.appendLine(`m v=${i} ${i}`));
    await until(() => syncs.length === 1);
    // The next group's write fails (ENOSPC) while the first write's sync runs.
    const original = log.appendLine('m v=-1 99999');
    await until(() => truncates.length === 1);
    const events: string[] = [];
    original.catch(() => events.push('original refused'));
    const point = log.syncPoint();
    point.then(() => events.push('syncPoint resolved'), () => events.push('syncPoint refused'));
    // The sync ends and the failed write's clean-up too, in one go: the refusal queues behind the earlier groups.
    syncs[0]!();
    truncates[0]!();
    await Promise.allSettled([...earlier, original, point]);
    // A QoS 1 retransmission of the refused reading waits on syncPoint: it must not be acknowledged.
    expect(events).toEqual(['original refused', 'syncPoint refused']);
  });

  it('close syncs what QoS 0 groups left unsynced', async () => {
    const dir = tempDir();
    const { log } = await open(dir);
    await log.append(lines(0, 2)); // synced: a QoS 1 group
    await log.appendLine('m v=2 2', false); // written, owed no fdatasync
    const held = await holdSyncs(dir);
    const closing = log.close();
    await until(() => held.length === 1);
    held[0]!.release();
    await closing;
    expect(held).toHaveLength(1);
  });

  it('saves the cursor on close even when the last commit was moments before', async () => {
    const dir = tempDir();
    const a = await open(dir);
    await a.log.append(lines(0, 6));
    a.log.commit(a.log.read(5)!.next); // the cursor file is written later (at most every 250 ms)...
    await a.log.close(); // ...or now
    const b = await open(dir);
    expect(drain(b.log)).toEqual(lines(5, 1));
  });
});

/** Bytes the segment files in `dir` take. */
const segmentBytesIn = (dir: string): number => readdirSync(dir).filter((f) => f.endsWith('.seg')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
/** ~100 KB: 500 points of ~200 bytes. */
const padded = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `m v=${from + i},pad="${'x'.repeat(180)}" ${from + i}`);

describe('durable log on a small disk', () => {
  it('on an 8 MB volume, with the shipper keeping up, holds a small part of it (it held a 64 MiB segment until the disk was full)', async () => {
    const dir = tempDir();
    const VOLUME = 8_000_000;
    // The default budget (1 GiB) is far past the volume: only the free space can size the segments.
    const { log } = await open(dir, { maxBytes: 1024 ** 3, freeBytes: async () => VOLUME - segmentBytesIn(dir) });
    let most = 0;
    const shipped: string[] = [];
    for (let i = 0; i < 160; i++) { // 16 MB written in all: twice the volume
      await log.append(padded(i * 500, 500));
      most = Math.max(most, segmentBytesIn(dir));
      shipped.push(...drain(log));
    }
    expect(shipped).toEqual(padded(0, 80_000));
    expect(log.segmentBytes()).toBeLessThanOrEqual(VOLUME / 8);
    expect(most).toBeLessThan(VOLUME / 4);
  });

  it('sizes segments again at each rotation, as the free space shrinks', async () => {
    const dir = tempDir();
    let free = 64 * 1024 * 1024;
    const { log } = await open(dir, { freeBytes: async () => free });
    expect(log.segmentBytes()).toBe(8 * 1024 * 1024); // an eighth of the free space
    free = 4 * 1024 * 1024; // something else filled the volume
    for (let i = 0; i < 90; i++) await log.append(padded(i * 500, 500)); // ~9 MB: past the first segment
    expect(log.segmentBytes()).toBe(512 * 1024);
  });

  it('closes a segment whose every line is shipped once it is past a small size, and deletes it at once', async () => {
    const dir = tempDir();
    // 8 MiB segments: a shipped one is closed past 2 MiB.
    const { log } = await open(dir, { segmentBytes: 8 * 1024 * 1024, freeBytes: async () => Number.POSITIVE_INFINITY });
    let most = 0;
    const shipped: string[] = [];
    for (let i = 0; i < 40; i++) { // ~4 MB
      await log.append(padded(i * 500, 500));
      most = Math.max(most, segmentBytesIn(dir));
      shipped.push(...drain(log));
    }
    expect(shipped).toEqual(padded(0, 20_000));
    expect(most).toBeLessThan(2 * 1024 * 1024 + 200_000); // one append past the mark, at most
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
  });

  it('never closes a segment early while InfluxDB lacks any of it', async () => {
    const dir = tempDir();
    const { log } = await open(dir, { segmentBytes: 8 * 1024 * 1024, freeBytes: async () => Number.POSITIVE_INFINITY });
    for (let i = 0; i < 40; i++) await log.append(padded(i * 500, 500));
    const batch = log.read(1_000)!;
    log.commit(batch.next); // a little shipped, most not
    await log.append(padded(20_000, 500));
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
    expect(drain(log, 5_000)).toEqual(padded(1_000, 19_500));
  });
});

describe('durable log readiness', () => {
  it('is not ready, saying why, while appends are refused for lack of disk; ready again when that is past', async () => {
    const dir = tempDir();
    // The active segment is /dev/full: every write fails with ENOSPC.
    symlinkSync('/dev/full', join(dir, segmentName({ index: 1, birth: 1_000_000 })));
    const { log, clock } = await open(dir);
    expect(log.readiness()).toBe(true);
    await expect(log.append(lines(0, 1))).rejects.toThrow(/ENOSPC/);
    expect(log.readiness()).toEqual({ ready: false, reason: 'no room on the data volume for the durable log (ENOSPC): QoS 1 readings are refused' });
    clock.advance(9_000);
    expect(log.readiness()).not.toBe(true);
    // No append for a while: a load balancer may have taken the instance out, so let devices try again.
    clock.advance(1_001);
    expect(log.readiness()).toBe(true);
  });

  it('is ready again as soon as an append is kept', async () => {
    const dir = tempDir();
    const { log } = await open(dir, { segmentBytes: 64 * 1024 });
    // The next segment's file name is taken by a directory: the write that needs it fails (EISDIR).
    const blocker = join(dir, segmentName({ index: 2, birth: 1_000_000 }));
    mkdirSync(blocker);
    await log.append(padded(0, 300)); // ~60 KiB: the next write needs the next segment
    await expect(log.append(padded(300, 100))).rejects.toThrow(/EISDIR/);
    expect(log.readiness()).toEqual({ ready: false, reason: 'the durable log cannot write (EISDIR): QoS 1 readings are refused' });
    rmSync(blocker, { recursive: true });
    await log.append(padded(400, 10));
    expect(log.readiness()).toBe(true);
  });
});


describe('durable log with a replica (clustered mode: a copy off this host before the PUBACK)', () => {
  /** A replica whose copies settle when the test says; what it was given, and what it was told is shipped. */
  function heldReplica() {
    const copies: Array<{ text: string; end: Cursor; lines: number; release: () => void }> = [];
    const shipped: Cursor[] = [];
    const replica: Replica = {
      copy(bytes, end, n) {
        const text = bytes.toString('utf8'); // read now: the buffer is the log's, used again
        return new Promise<void>((resolve) => copies.push({ text, end, lines: n, release: resolve }));
      },
      shipped: (cursor) => shipped.push(cursor),
    };
    return { replica, copies, shipped };
  }
  const until = async (check: () => boolean) => {
    for (const deadline = Date.now() + 5_000; !check();) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  it('settles a write only once its copy is taken too, in write order, and gives the copy the write\'s bytes and end', async () => {
    const { log } = await open(tempDir());
    const { replica, copies } = heldReplica();
    log.setReplica(replica);
    const order: string[] = [];
    const first = log.append(lines(0, 2)).then(() => order.push('first'));
    await until(() => copies.length === 1);
    const second = log.append(lines(2, 3)).then(() => order.push('second'));
    await until(() => copies.length === 2);
    expect(copies.map((c) => c.text)).toEqual([`${lines(0, 2).join('\n')}\n`, `${lines(2, 3).join('\n')}\n`]);
    expect(copies.map((c) => c.lines)).toEqual([2, 3]);
    const firstBytes = Buffer.byteLength(copies[0]!.text);
    expect(copies[0]!.end).toMatchObject({ offset: firstBytes, line: 2 });
    expect(copies[1]!.end).toMatchObject({ segment: copies[0]!.end.segment, offset: firstBytes + Buffer.byteLength(copies[1]!.text), line: 5 });
    await log.flush(); // both synced on disk: still not settled, their copies are not taken
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    copies[1]!.release(); // the later copy first: the earlier write still holds both
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    copies[0]!.release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('tells the replica how far InfluxDB has the log at each commit; without a replica nothing waits', async () => {
    const { log } = await open(tempDir());
    const { replica, copies, shipped } = heldReplica();
    log.setReplica(replica);
    const appended = log.append(lines(0, 4));
    await until(() => copies.length === 1);
    copies[0]!.release();
    await appended;
    const batch = log.read(3)!;
    log.commit(batch.next);
    expect(shipped).toEqual([batch.next]);
    log.setReplica(undefined);
    await log.append(lines(4, 1)); // settles with no copy
    expect(copies).toHaveLength(1);
  });

  it('tells the replica when the disk budget drops lines, so their copies go too (InfluxDB away: no commit comes)', async () => {
    const { log, dropped } = await open(tempDir(), { maxBytes: 256 * 1024 });
    const shipped: Cursor[] = [];
    log.setReplica({ copy: () => Promise.resolve(), shipped: (cursor) => shipped.push(cursor) });
    for (let i = 0; i < 100; i++) await log.append(lines(i * 500, 500));
    expect(dropped.length).toBeGreaterThan(0);
    expect(shipped.length).toBe(dropped.length);
    expect(shipped.at(-1)).toEqual(log.snapshot().cursor); // where the oldest line kept is
  });

  it('a replica that throws or rejects does not hold the write: it settles on the disk alone, and the error is reported', async () => {
    const dir = tempDir();
    const errors: unknown[] = [];
    const log = await openDurableLog({ dir, clock: createManualClock(1), fsync: true, maxBytes: 1e9, onDrop: () => undefined, onListenerError: (e) => errors.push(e) });
    logs.push(log);
    log.setReplica({ copy: () => { throw new Error('replica bug'); }, shipped: () => undefined });
    await log.append(lines(0, 1));
    log.setReplica({ copy: () => Promise.reject(new Error('replica refused')), shipped: () => undefined });
    await log.append(lines(1, 1));
    expect(errors.map((e) => (e as Error).message)).toEqual(['replica bug', 'replica refused']);
    expect(drain(log)).toEqual(lines(0, 2));
  });
});
