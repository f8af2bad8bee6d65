import { constants, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentBytesFor, shouldRotate } from './budget.ts';
import { createCommitPipeline } from './commit-pipeline.ts';
import type { createGroupBuffers, Group } from './group-buffers.ts';
import type { SegmentTable } from './segment-table.ts';
import { segmentName, type Cursor, type SegmentInfo } from './segments.ts';
import type { Replica } from './replica.ts';

// Read-write, not append: on Linux O_APPEND ignores the write position, so after an append
// that failed half-way (ENOSPC, EIO on fdatasync) the next one would land after the torn
// bytes while the segment table, and so the shipper, expects it at the recorded size.
const WRITE_AT = constants.O_RDWR | constants.O_CREAT;

export interface WriterDeps {
  dir: string;
  fsync: boolean;
  /** Segment size asked for, and the disk budget: what segmentBytesFor sizes segments from, with the free space. */
  limits: { configured: number; maxBytes: number };
  freeBytes: () => Promise<number>;
  now: () => number;
  table: SegmentTable;
  groups: ReturnType<typeof createGroupBuffers>;
  /** Called after each write, before its fdatasync. */
  onWritten: () => void;
  /** The copy off this host, if any (clustered mode): each write's groups settle once it has them too. */
  replica: () => Replica | undefined;
  /** The replica threw or rejected (it should not: it bounds and counts its own failures); the write settles without it. */
  onReplicaError: (error: unknown) => void;
}

/**
 * The durable log's writer: takes every waiting group into one write at the active
 * segment's recorded size, rotates segments, and hands what it wrote to the commit
 * pipeline, which syncs and settles it.
 */
export async function openWriter(deps: WriterDeps) {
  const { table, groups } = deps;
  let handle: FileHandle = await open(join(deps.dir, segmentName(table.active())), WRITE_AT);
  const commits = createCommitPipeline(() => handle.datasync(), deps.now);
  /** Sized again at each rotation: the free space changes. */
  let segmentBytes = segmentBytesFor({ ...deps.limits, freeBytes: await deps.freeBytes() });
  let flushing: Promise<void> | undefined;
  let wakeWriter: (() => void) | undefined;
  /** Lines appended and not yet written (what memory holds for the log). */
  let unwritten = 0;
  /** The newest group taken for writing: groups settle in order, so once it has, every earlier one has. */
  let lastTaken: Group | undefined;

  async function rotate(): Promise<void> {
    // Every sync of this file finishes first (the groups it covers settle), then what QoS 0
    // groups left unsynced here is synced: a later fdatasync covers only the new file.
    await commits.syncFile();
    // The new file is opened before the old one is closed: when that fails (a full disk, no
    // file descriptors left), the write that needed it is refused and the log stays on the
    // old segment, open, and tries again at the next write, instead of writing to a closed file until restarted.
    const next = table.following();
    const opened = await open(join(deps.dir, segmentName(next)), WRITE_AT);
    const previous = handle;
    table.add(next);
    handle = opened;
    await previous.close().catch(() => undefined); // synced above: nothing of it is lost
    segmentBytes = segmentBytesFor({ ...deps.limits, freeBytes: await deps.freeBytes() });
  }

  // `flushing` is cleared in the same synchronous step that finds nothing pending and no
  // sync running, so an append made by a resumed waiter always either wakes this loop or
  // starts a new one.
  async function flushLoop(): Promise<void> {
    // Start the commit after this turn's I/O callbacks: the readings every connection
    // delivered in the same poll phase join one write and one fdatasync, rather than the
    // first of them paying a commit of its own.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      for (;;) {
        if (groups.hasWaiting()) {
          await writeWaiting();
          continue;
        }
        const syncing = commits.syncing();
        if (!syncing) break;
        // Nothing to write: wait for the sync, or for new appends, which are written at once.
        await Promise.race([syncing, new Promise<void>((resolve) => { wakeWriter = resolve; })]);
        wakeWriter = undefined;
        if (groups.hasWaiting()) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      flushing = undefined;
    }
  }

  /** Write every waiting group in one write; it settles after a sync, when it needs one. */
  async function writeWaiting(): Promise<void> {
    const batches = groups.takeWaiting();
    lastTaken = batches.at(-1);
    commits.beginWrite();
    try {
      const bufs = batches.map((b) => b.bytes!.subarray(0, b.used));
      const bytes = bufs.reduce((n, b) => n + b.length, 0);
      const lineCount = batches.reduce((n, b) => n + b.count, 0);
      if (shouldRotate(table.active(), table.cursor(), bytes, segmentBytes)) await rotate();
      const buf = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs, bytes);
      const copied = copyWrite(deps, table.active(), buf, lineCount);
      await writeFully(handle, buf, table.active().size);
      groups.recycle(batches); // the kernel has the bytes
      table.wrote(buf.length, lineCount);
      unwritten -= lineCount;
      table.enforceBudget();
      // The shipper may send what is written while the fdatasync runs: a reading's way
      // to InfluxDB does not wait for the disk's slowest syncs. Nobody is told "kept"
      // before the sync: a QoS 1 PUBACK and the rules still wait for it. After a power cut,
      // a cursor past the end of what survived makes recovery ship from the oldest segment again.
      deps.onWritten();
      // fdatasync covers every earlier write to this file too, so a group of QoS 0
      // points only is written and not synced: nobody was promised it survives a power cut.
      commits.written(batches, deps.fsync && batches.some((b) => b.sync), deps.fsync, copied);
    } catch (error) {
      commits.writeFailed();
      unwritten -= batches.reduce((n, b) => n + b.count, 0);
      // Best effort: drop what this failed append left, so a restart does not recover it.
      await handle.truncate(table.active().size).catch(() => undefined);
      groups.recycle(batches);
      commits.refuse(batches, error);
    }
  }

  return {
    /** The group `count` new lines go into (the commit loop starts after this turn, so they are in it by then). */
    groupFor(count: number, sync: boolean): Group {
      const group = groups.current();
      unwritten += count;
      if (sync) group.sync = true;
      if (flushing) wakeWriter?.();
      else flushing = flushLoop();
      return group;
    },
    lastTaken: (): Group | undefined => lastTaken,
    refusal: () => commits.refusal(),
    segmentBytes: (): number => segmentBytes,
    unwritten: (): number => unwritten,
    /** Resolves once the commit loop has nothing left to write or sync. */
    async idle(): Promise<void> {
      while (flushing) await flushing;
    },
    syncUnsynced: (): Promise<void> => commits.syncUnsynced(),
    /** Sync what QoS 0 groups left unsynced, and close the file (after `idle`). */
    async close(): Promise<void> {
      try {
        await commits.syncUnsynced();
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * The replica's copy of one write about to go to `seg`, if there is a replica; settled either
 * way (a failure is the replica's to count; here it is only reported). It goes out as the write
 * begins: the PUBACKs wait for the slower of the two, not their sum.
 */
function copyWrite(deps: Pick<WriterDeps, 'replica' | 'onReplicaError'>, seg: SegmentInfo, buf: Buffer, lines: number): Promise<void> | undefined {
  const replica = deps.replica();
  if (!replica) return undefined;
  const end: Cursor = { segment: seg.index, offset: seg.size + buf.length, line: seg.lines + lines };
  try {
    return replica.copy(buf, end, lines).catch(deps.onReplicaError);
  } catch (error) {
    deps.onReplicaError(error);
    return Promise.resolve();
  }
}

/** All of `buf` at `at`: a write may take less than it was given. */
async function writeFully(handle: FileHandle, buf: Buffer, at: number): Promise<void> {
  let written = 0;
  while (written < buf.length) {
    const { bytesWritten } = await handle.write(buf, written, buf.length - written, at + written);
    written += bytesWritten;
  }
}
