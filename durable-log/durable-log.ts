import { mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync, readFileSync, openSync, readSync, closeSync, ftruncateSync, fstatSync, statSync } from 'node:fs';
import { constants, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.ts';
import { backlogOf, isBefore, readLines, SEGMENT_RE, segmentName, type Backlog, type Cursor, type SegmentInfo } from './segments.ts';

/**
 * The durable log: the local log of points on their way to InfluxDB, written before a
 * reading is acknowledged and holding the backlog through an InfluxDB outage. Points are line-protocol lines, appended to numbered segment
 * files; appends are group-committed (one write + fdatasync for everything that arrived
 * while the previous commit ran), and a QoS 1 PUBACK waits for that commit. The InfluxDB
 * shipper reads from a cursor and commits it after each stored batch; replaying from a
 * stale cursor after a crash only rewrites identical points (same series and timestamp).
 */

type Segment = SegmentInfo;
export type { Cursor };

export interface DurableLogOptions {
  dir: string;
  clock: Clock;
  /** fdatasync before resolving appends. */
  fsync: boolean;
  /** Disk budget for unshipped lines; past it whole oldest segments are dropped. */
  maxBytes: number;
  segmentBytes?: number;
  /** Called with the number of lines dropped to honour the budget (they are counted, never silent). */
  onDrop: (lines: number, bytes: number) => void;
  /**
   * The cursor file could not be written (full disk, broken directory). Not fatal: a stale
   * cursor only replays points InfluxDB already has (same series and time) after a restart.
   */
  onCursorError?: (error: unknown) => void;
  /** A durable-commit listener or the drop callback threw (logged; the log carries on). */
  onListenerError?: (error: unknown) => void;
}

export type DurableLog = Awaited<ReturnType<typeof openDurableLog>>;

// Read-write, not append: on Linux O_APPEND ignores the write position, so after an append
// that failed half-way (ENOSPC, EIO on fdatasync) the next one would land after the torn
// bytes while the segment table, and so the shipper, expects it at the recorded size.
const WRITE_AT = constants.O_RDWR | constants.O_CREAT;
const CURSOR_SAVE_MS = 250;
const GROUP_MAX_LINES = 4096;
/** A group's first buffer; it doubles as lines come (a full group of soil points is ~450 KiB). */
const GROUP_BUFFER_BYTES = 64 * 1024;
/** Written groups' buffers kept for the next groups (up to 1 MiB each), so a flood does not allocate one per commit. */
const SPARE_BUFFERS = 4;
const SPARE_MAX_BYTES = 1024 * 1024;


export async function openDurableLog(options: DurableLogOptions) {
  const { dir, clock } = options;
  // Four segments at least fit in the budget, so dropping one frees a quarter at most.
  const segmentBytes = Math.max(64 * 1024, Math.min(options.segmentBytes ?? 64 * 1024 * 1024, Math.floor(options.maxBytes / 4)));
  mkdirSync(dir, { recursive: true });

  const segments: Segment[] = recoverSegments(dir);
  let cursor = readCursor(dir, segments);
  if (segments.length === 0) {
    // Everything was shipped: continue the numbering where the cursor stands.
    segments.push({ index: cursor.segment, birth: clock.now(), size: 0, lines: 0 });
    cursor = { segment: cursor.segment, offset: 0, line: 0 };
  }
  const active = (): Segment => segments[segments.length - 1]!;
  let handle: FileHandle = await open(join(dir, segmentName(active())), WRITE_AT);
  /**
   * The next group commit: its lines, already UTF-8 with their newlines, and the one promise
   * every append into it shares. A line is encoded as it is appended, not when the group is
   * written: the string (a tree of the pieces a point is made of) then dies young, instead of
   * surviving the scavenges until the write, where lines were most of what the GC copied
   * during a flood of readings.
   */
  interface Group { bytes: Buffer | undefined; used: number; count: number; sync: boolean; done: Promise<void>; resolve: () => void; reject: (e: unknown) => void }
  const newGroup = (): Group => {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    done.catch(() => undefined); // every appender gets the promise and handles it; an unobserved group is no crash
    return { bytes: undefined, used: 0, count: 0, sync: false, done, resolve, reject };
  };
  const spare: Buffer[] = [];
  function put(group: Group, line: string): void {
    const room = line.length * 3 + 1; // UTF-8 takes at most 3 bytes per UTF-16 unit
    let bytes = group.bytes;
    if (bytes === undefined) bytes = group.bytes = spare.pop() ?? Buffer.allocUnsafe(GROUP_BUFFER_BYTES);
    if (group.used + room > bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * bytes.length, group.used + room));
      bytes.copy(grown, 0, 0, group.used);
      bytes = group.bytes = grown;
    }
    group.used += bytes.write(line, group.used);
    bytes[group.used++] = 0x0a;
    group.count++;
  }
  function recycle(groups: Group[]): void {
    for (const group of groups) {
      if (group.bytes !== undefined && group.bytes.length <= SPARE_MAX_BYTES && spare.length < SPARE_BUFFERS) spare.push(group.bytes);
      group.bytes = undefined;
    }
  }
  let pending = newGroup();
  // Groups that reached GROUP_MAX_LINES while a commit was running, oldest first. They are
  // written together and settled one per turn (settleInTurns).
  const full: Group[] = [];
  /** Lines appended and not yet written (what memory holds for the log). */
  let unwritten = 0;
  /** Bytes of the active segment written without an fdatasync (QoS 0 groups). */
  let unsynced = false;
  /** The group `count` new lines go into (the commit loop starts after this turn, so they are in it by then). */
  const groupFor = (count: number, sync: boolean): Group => {
    const group = nextGroup();
    unwritten += count;
    if (sync) group.sync = true;
    if (flushing) wakeWriter?.();
    else flushing = flushLoop();
    return group;
  };
  const nextGroup = (): Group => {
    if (pending.count >= GROUP_MAX_LINES) {
      full.push(pending);
      pending = newGroup();
    }
    return pending;
  };
  let flushing: Promise<void> | undefined;
  let closed = false;
  const listeners = new Set<() => void>();

  /**
   * fdatasync what QoS 0 groups left written but unsynced (only ever set with `fsync`). The
   * mark is cleared first: a QoS 0 write made during this sync sets it again (it may not be
   * covered); a failed sync puts it back.
   */
  async function syncUnsynced(): Promise<void> {
    if (!unsynced) return;
    unsynced = false;
    try {
      await handle.datasync();
    } catch (error) {
      unsynced = true;
      throw error;
    }
  }

  async function rotate(): Promise<void> {
    // Every sync of this file finishes first (the groups it covers settle), then what QoS 0
    // groups left unsynced here is synced: a later fdatasync covers only the new file.
    while (syncing) await syncing;
    await syncUnsynced();
    // The new file is opened before the old one is closed: when that fails (a full disk, no
    // file descriptors left), the write that needed it is refused and the log stays on the
    // old segment, open, and tries again at the next write, instead of writing to a closed file until restarted.
    const next: Segment = { index: active().index + 1, birth: clock.now(), size: 0, lines: 0 };
    const opened = await open(join(dir, segmentName(next)), WRITE_AT);
    const previous = handle;
    segments.push(next);
    handle = opened;
    await previous.close().catch(() => undefined); // synced above: nothing of it is lost
  }

  function enforceBudget(): void {
    let bytes = unshippedBytes();
    while (bytes > options.maxBytes && segments.length > 1) {
      const oldest = segments[0]!;
      const skippedBytes = oldest.index === cursor.segment ? oldest.size - cursor.offset : oldest.size;
      const skippedLines = oldest.index === cursor.segment ? oldest.lines - cursor.line : oldest.lines;
      dropSegment(oldest);
      cursor = { segment: segments[0]!.index, offset: 0, line: 0 };
      saveCursor();
      bytes -= skippedBytes;
      if (skippedLines > 0) {
        try {
          options.onDrop(skippedLines, skippedBytes);
        } catch (error) {
          options.onListenerError?.(error); // the drop is done and counted by the caller's own metric
        }
      }
    }
  }

  function dropSegment(segment: Segment): void {
    segments.shift();
    try {
      unlinkSync(join(dir, segmentName(segment)));
    } catch {
      // already gone
    }
  }

  const unshippedBytes = (): number => backlogOf(segments, cursor, 0).bytes;

  // A listener's failure is its own: the commit it was told about stands.
  function notify(): void {
    for (const l of listeners) {
      try {
        l();
      } catch (error) {
        options.onListenerError?.(error);
      }
    }
  }

  // Groups written together are settled one per event-loop turn, in order: each group's
  // completion (PUBACKs, the rules for its readings) is a bounded stretch of work, and the
  // sockets are read in between.
  // A refusal (a failed write or sync) goes through the same queue, so it too comes in order.
  const settling: Array<{ group: Group; error: unknown }> = [];
  const settleOne = ({ group, error }: { group: Group; error: unknown }): void => (error === undefined ? group.resolve() : group.reject(error));
  function settleInTurns(groups: Group[], error?: unknown): void {
    const idle = settling.length === 0;
    for (const group of groups) settling.push({ group, error });
    if (!idle || settling.length === 0) return;
    settleOne(settling.shift()!);
    const next = (): void => {
      const entry = settling.shift();
      if (!entry) return;
      settleOne(entry);
      if (settling.length > 0) setImmediate(next);
    };
    if (settling.length > 0) setImmediate(next);
  }

  // The shipper commits a batch several times a second; a file write and rename for each
  // would block this thread on a busy disk. The cursor is saved at most every
  // CURSOR_SAVE_MS: a crash in between only replays points InfluxDB overwrites with themselves.
  let cursorTimer: NodeJS.Timeout | undefined;
  function saveCursorSoon(): void {
    cursorTimer ??= setTimeout(() => {
      cursorTimer = undefined;
      saveCursor();
    }, CURSOR_SAVE_MS).unref();
  }

  function saveCursor(): void {
    if (cursorTimer) {
      clearTimeout(cursorTimer);
      cursorTimer = undefined;
    }
    try {
      writeCursor(dir, cursor);
    } catch (error) {
      options.onCursorError?.(error);
    }
  }

  // Pipelined group commit. The writer writes whatever is waiting as soon as the previous
  // write is done, without waiting for that write's fdatasync; a sync covers every write
  // made before it began, and the groups it covers settle, in write order, when it ends.
  // So a slow fdatasync (this host's disk has 100 ms ones) delays only the PUBACKs and
  // rules of the groups it covers, never the next write or the shipper's view of it.
  interface Written { seq: number; batches: Group[]; sync: boolean; error?: unknown }
  const awaiting: Written[] = []; // written, not yet settled, in write order
  let writtenSeq = 0;
  let syncing: Promise<void> | undefined;
  let wakeWriter: (() => void) | undefined;
  /** A write was in progress when a sync failed: its group is refused too. */
  let writing = false;
  let refuseWriteInProgress: unknown;

  /** Settle what may settle, in order, and start a sync when a written group needs one. */
  function pump(): void {
    // Groups owed no fdatasync (or refused already) settle once nothing written before them waits.
    while (awaiting.length > 0 && (!awaiting[0]!.sync || awaiting[0]!.error !== undefined)) {
      const head = awaiting.shift()!;
      settleInTurns(head.batches, head.error);
    }
    if (syncing || awaiting.length === 0) return;
    let upTo = writtenSeq;
    unsynced = false; // this sync covers the QoS 0 writes before it too
    syncing = (async () => {
      let error: unknown;
      try {
        await handle.datasync();
      } catch (e) {
        error = e;
        unsynced = true;
        // Pages written while this sync ran may have been in the writeback that failed, and
        // Linux reports a failed writeback once: a later sync could succeed without them.
        // So everything written until now is refused, and a write in progress too.
        upTo = writtenSeq;
        if (writing) refuseWriteInProgress = e;
      }
      const covered: Group[] = [];
      while (awaiting.length > 0 && awaiting[0]!.seq <= upTo) covered.push(...awaiting.shift()!.batches);
      // A failed sync keeps its lines (the shipper may have read them): the refused senders
      // send them again, and a point stored twice is stored once (the ingest gives a resent
      // reading the time it gave the original).
      settleInTurns(covered, error);
      syncing = undefined;
      pump();
    })();
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
        if (full.length > 0 || pending.count > 0) {
          await writeWaiting();
          continue;
        }
        if (!syncing) break;
        // Nothing to write: wait for the sync, or for new appends, which are written at once.
        await Promise.race([syncing, new Promise<void>((resolve) => { wakeWriter = resolve; })]);
        wakeWriter = undefined;
        if (full.length > 0 || pending.count > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      flushing = undefined;
    }
  }

  /** The newest group taken for writing: groups settle in order, so once it has, every earlier one has. */
  let lastTaken: Group | undefined;

  /** Write every waiting group in one write; it settles (pump) after a sync, when it needs one. */
  async function writeWaiting(): Promise<void> {
    // Everything waiting goes in one write: a turn of the event loop can deliver many
    // groups' worth of readings, and a write each would let them pile up in memory.
    const batches = full.splice(0);
    if (pending.count > 0) {
      batches.push(pending);
      pending = newGroup();
    }
    lastTaken = batches.at(-1);
    writing = true;
    try {
      const bufs = batches.map((b) => b.bytes!.subarray(0, b.used));
      const bytes = bufs.reduce((n, b) => n + b.length, 0);
      const lineCount = batches.reduce((n, b) => n + b.count, 0);
      if (active().size > 0 && active().size + bytes > segmentBytes) await rotate();
      const seg = active();
      const buf = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs, bytes);
      let written = 0;
      while (written < buf.length) {
        const { bytesWritten } = await handle.write(buf, written, buf.length - written, seg.size + written);
        written += bytesWritten;
      }
      recycle(batches); // the kernel has the bytes
      seg.size += buf.length;
      seg.lines += lineCount;
      unwritten -= lineCount;
      enforceBudget();
      // The shipper may send what is written while the fdatasync runs: a reading's way
      // to InfluxDB does not wait for the disk's slowest syncs. Nobody is told "kept"
      // before the sync: a QoS 1 PUBACK and the rules still wait for it. After a power cut,
      // a cursor past the end of what survived makes recovery ship from the oldest segment again.
      notify();
      // fdatasync covers every earlier write to this file too, so a group of QoS 0
      // points only is written and not synced: nobody was promised it survives a power cut.
      const sync = options.fsync && batches.some((b) => b.sync);
      if (options.fsync && !sync) unsynced = true;
      const error = refuseWriteInProgress;
      refuseWriteInProgress = undefined;
      writing = false;
      awaiting.push({ seq: ++writtenSeq, batches, sync, ...(error === undefined ? {} : { error }) });
      pump();
    } catch (error) {
      writing = false;
      refuseWriteInProgress = undefined;
      unwritten -= batches.reduce((n, b) => n + b.count, 0);
      // Best effort: drop what this failed append left, so a restart does not recover it.
      await handle.truncate(active().size).catch(() => undefined);
      recycle(batches);
      // Refused in turn, after the groups written before it.
      awaiting.push({ seq: ++writtenSeq, batches, sync: false, error });
      pump();
    }
  }

  return {
    /**
     * Append points; resolves once they are on disk (fdatasync'd when `fsync`). Every
     * append until the next commit starts shares one promise: under load thousands of
     * appends cost one write, one fdatasync and one promise.
     */
    append(lines: readonly string[], options: { sync?: boolean } = {}): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      if (lines.length === 0) return Promise.resolve();
      const group = groupFor(lines.length, options.sync !== false);
      for (const line of lines) put(group, line);
      return group.done;
    },

    /**
     * One point, without an array around it (the ingest's hot path); the same promise as
     * `append`. `sync` false (a QoS 0 reading): written with its group, but no fdatasync
     * is owed for it; it resolves once written, which survives a killed process.
     */
    appendLine(line: string, sync = true): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      const group = groupFor(1, sync);
      put(group, line);
      return group.done;
    },

    /**
     * Resolves once everything appended so far is fdatasync'd, QoS 0 groups included: a QoS 1
     * retransmission of a reading first sent at QoS 0 is acknowledged only then.
     */
    syncPoint(): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      const group = pending.count > 0 ? pending : full.at(-1);
      if (group) {
        group.sync = true;
        return group.done;
      }
      const taken = lastTaken;
      return (async () => {
        // Everything appended so far was taken for writing. Its groups settle in order, one per
        // turn, a refusal too: the loop can end while a refusal still waits its turn, and a
        // QoS 1 retransmission of the refused reading must not be acknowledged (its original is
        // not stored). So this settles after the newest of them, and fails with it.
        if (taken) await taken.done;
        while (flushing) await flushing;
        await syncUnsynced();
      })();
    },

    /** Wait for every append made so far to be durable. */
    async flush(): Promise<void> {
      while (flushing) await flushing;
    },

    /** Read up to `maxLines` durable lines from the cursor; `next` is where a commit moves it. */
    read(maxLines: number): { lines: string[]; next: Cursor } | undefined {
      return readLines(dir, segments, cursor, maxLines);
    },

    /** The segment table and cursor, for a shipper in another thread. */
    snapshot(): { segments: SegmentInfo[]; cursor: Cursor } {
      return { segments: segments.map((seg) => ({ ...seg })), cursor };
    },

    /** Mark everything before `next` as stored in InfluxDB; finished segments are deleted. */
    commit(next: Cursor): void {
      if (!isBefore(cursor, next)) return; // overtaken by a budget drop
      cursor = next;
      while (segments.length > 1 && segments[0]!.index < cursor.segment) dropSegment(segments[0]!);
      const head = segments[0]!;
      if (segments.length > 1 && head.index === cursor.segment && cursor.offset >= head.size) {
        dropSegment(head);
        cursor = { segment: segments[0]!.index, offset: 0, line: 0 };
      }
      saveCursorSoon();
    },

    /** Lines appended but not yet written to the segment (held in memory until the next commit). */
    unwrittenLines: (): number => unwritten,

    /** Lines and bytes not yet stored in InfluxDB, and the age of the oldest (ms). */
    backlog(): Backlog {
      return backlogOf(segments, cursor, clock.now());
    },

    /** Called after each group is written (before its fdatasync), so the shipper can wake. */
    onWritten(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Write what is waiting, sync what QoS 0 groups left unsynced (an orderly stop owes a power cut nothing), and close. */
    async close(): Promise<void> {
      while (flushing) await flushing;
      if (cursorTimer) saveCursor();
      closed = true;
      try {
        await syncUnsynced();
      } finally {
        await handle.close();
      }
    },
  };
}

function recoverSegments(dir: string): Segment[] {
  const segments: Segment[] = [];
  // Not directories: one with a segment's name (someone's mkdir, a restore gone wrong) is no
  // segment, and opening it would stop the app from starting at all. A symlink counts as what
  // it points to (a test's segment is /dev/full).
  const files = readdirSync(dir).filter((f) => SEGMENT_RE.test(f) && !statSync(join(dir, f)).isDirectory()).sort();
  for (const [i, file] of files.entries()) {
    const m = SEGMENT_RE.exec(file)!;
    const fd = openSync(join(dir, file), 'r+');
    try {
      const { size } = fstatSync(fd);
      const { lines, lastNewline } = countLines(fd, size);
      // A crash can tear the last append of the last segment: keep only whole lines.
      if (lastNewline + 1 < size && i === files.length - 1) ftruncateSync(fd, lastNewline + 1);
      segments.push({ index: Number(m[1]), birth: Number(m[2]), size: lastNewline + 1, lines });
    } finally {
      closeSync(fd);
    }
  }
  return segments;
}

function countLines(fd: number, size: number): { lines: number; lastNewline: number } {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let lines = 0;
  let lastNewline = -1;
  for (let pos = 0; pos < size;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n === 0) break;
    for (let i = buf.indexOf(0x0a); i !== -1 && i < n; i = buf.indexOf(0x0a, i + 1)) {
      lines++;
      lastNewline = pos + i;
    }
    pos += n;
  }
  return { lines, lastNewline };
}

function readCursor(dir: string, segments: Segment[]): Cursor {
  const first: Cursor = { segment: segments[0]?.index ?? 1, offset: 0, line: 0 };
  try {
    const c = JSON.parse(readFileSync(join(dir, 'cursor.json'), 'utf8')) as Cursor;
    const seg = segments.find((s) => s.index === c.segment);
    if (seg && Number.isInteger(c.offset) && c.offset <= seg.size) return c;
    if (segments.length === 0 || c.segment > segments[segments.length - 1]!.index) return { segment: c.segment, offset: 0, line: 0 };
  } catch {
    // no cursor yet: start from the oldest segment
  }
  return first;
}

function writeCursor(dir: string, cursor: Cursor): void {
  const tmp = join(dir, 'cursor.json.tmp');
  writeFileSync(tmp, JSON.stringify(cursor));
  renameSync(tmp, join(dir, 'cursor.json'));
}
