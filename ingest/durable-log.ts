import { mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync, readFileSync, openSync, readSync, closeSync, ftruncateSync, fstatSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.ts';

/**
 * The durable local log of points on their way to InfluxDB: a write-ahead log and, during
 * an outage, the spool. Points are line-protocol lines, appended to numbered segment
 * files; appends are group-committed (one write + fdatasync for everything that arrived
 * while the previous commit ran), and a QoS 1 PUBACK waits for that commit. The InfluxDB
 * shipper reads from a cursor and commits it after each stored batch; replaying from a
 * stale cursor after a crash only rewrites identical points (same series and timestamp).
 */

export interface Cursor {
  segment: number;
  offset: number;
  /** Lines before `offset` in that segment, for backlog accounting. */
  line: number;
}

interface Segment {
  index: number;
  /** When the segment was started (ms): the age of its oldest line, for the backlog metric. */
  birth: number;
  /** Bytes durably written. */
  size: number;
  lines: number;
}

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
}

export type DurableLog = Awaited<ReturnType<typeof openDurableLog>>;

const SEGMENT_RE = /^(\d{12})-(\d{13})\.wal$/;
const segmentName = (s: Pick<Segment, 'index' | 'birth'>): string => `${String(s.index).padStart(12, '0')}-${String(s.birth).padStart(13, '0')}.wal`;

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
  let handle: FileHandle = await open(join(dir, segmentName(active())), 'a+');
  let pending: { chunks: string[]; lines: number; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> } = { chunks: [], lines: 0, waiters: [] };
  let flushing: Promise<void> | undefined;
  let closed = false;
  const listeners = new Set<() => void>();

  async function rotate(): Promise<void> {
    await handle.close();
    const next: Segment = { index: active().index + 1, birth: clock.now(), size: 0, lines: 0 };
    segments.push(next);
    handle = await open(join(dir, segmentName(next)), 'a+');
  }

  function enforceBudget(): void {
    let bytes = unshippedBytes();
    while (bytes > options.maxBytes && segments.length > 1) {
      const oldest = segments[0]!;
      const skippedBytes = oldest.index === cursor.segment ? oldest.size - cursor.offset : oldest.size;
      const skippedLines = oldest.index === cursor.segment ? oldest.lines - cursor.line : oldest.lines;
      dropSegment(oldest);
      cursor = { segment: segments[0]!.index, offset: 0, line: 0 };
      writeCursor(dir, cursor);
      bytes -= skippedBytes;
      if (skippedLines > 0) options.onDrop(skippedLines, skippedBytes);
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

  function unshippedBytes(): number {
    let bytes = 0;
    for (const s of segments) bytes += s.index < cursor.segment ? 0 : s.index === cursor.segment ? s.size - cursor.offset : s.size;
    return bytes;
  }

  // `flushing` is cleared in the same synchronous step that finds nothing pending, so an
  // append made by a resumed waiter always either joins this loop or starts a new one.
  async function flushLoop(): Promise<void> {
    try {
      while (pending.chunks.length > 0) {
        const batch = pending;
        pending = { chunks: [], lines: 0, waiters: [] };
        try {
          const buf = Buffer.from(batch.chunks.join(''), 'utf8');
          if (active().size > 0 && active().size + buf.length > segmentBytes) await rotate();
          const seg = active();
          let written = 0;
          while (written < buf.length) {
            const { bytesWritten } = await handle.write(buf, written, buf.length - written, seg.size + written);
            written += bytesWritten;
          }
          if (options.fsync) await handle.datasync();
          seg.size += buf.length;
          seg.lines += batch.lines;
          enforceBudget();
          for (const w of batch.waiters) w.resolve();
          for (const l of listeners) l();
        } catch (error) {
          for (const w of batch.waiters) w.reject(error);
        }
      }
    } finally {
      flushing = undefined;
    }
  }

  return {
    /** Append points; resolves once they are on disk (fdatasync'd when `fsync`). */
    append(lines: readonly string[]): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      if (lines.length === 0) return Promise.resolve();
      const promise = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }));
      pending.chunks.push(lines.join('\n') + '\n');
      pending.lines += lines.length;
      flushing ??= flushLoop();
      return promise;
    },

    /** Wait for every append made so far to be durable. */
    async flush(): Promise<void> {
      while (flushing) await flushing;
    },

    /** Read up to `maxLines` durable lines from the cursor; `next` is where a commit moves it. */
    read(maxLines: number, maxBytes = Math.min(maxLines * 512, 8 * 1024 * 1024)): { lines: string[]; next: Cursor } | undefined {
      let at = cursor;
      for (;;) {
        const seg = segments.find((s) => s.index === at.segment) ?? segments.find((s) => s.index > at.segment);
        if (!seg) return undefined;
        if (seg.index !== at.segment) at = { segment: seg.index, offset: 0, line: 0 };
        if (at.offset < seg.size) {
          const length = Math.min(seg.size - at.offset, maxBytes);
          const buf = Buffer.allocUnsafe(length);
          const fd = openSync(join(dir, segmentName(seg)), 'r');
          try {
            readSync(fd, buf, 0, length, at.offset);
          } finally {
            closeSync(fd);
          }
          const text = buf.toString('utf8', 0, buf.lastIndexOf(0x0a) + 1);
          const lines: string[] = [];
          let pos = 0;
          while (lines.length < maxLines && pos < text.length) {
            const nl = text.indexOf('\n', pos);
            lines.push(text.slice(pos, nl));
            pos = nl + 1;
          }
          if (lines.length === 0 && length === maxBytes) return this.read(maxLines, maxBytes * 4); // one very long line
          const bytes = Buffer.byteLength(text.slice(0, pos));
          return { lines, next: { segment: seg.index, offset: at.offset + bytes, line: at.line + lines.length } };
        }
        if (seg === active()) return undefined;
        at = { segment: seg.index + 1, offset: 0, line: 0 };
      }
    },

    /** Mark everything before `next` as stored in InfluxDB; finished segments are deleted. */
    commit(next: Cursor): void {
      if (next.segment < cursor.segment || (next.segment === cursor.segment && next.offset <= cursor.offset)) return; // overtaken by a budget drop
      cursor = next;
      while (segments.length > 1 && segments[0]!.index < cursor.segment) dropSegment(segments[0]!);
      const head = segments[0]!;
      if (segments.length > 1 && head.index === cursor.segment && cursor.offset >= head.size) {
        dropSegment(head);
        cursor = { segment: segments[0]!.index, offset: 0, line: 0 };
      }
      writeCursor(dir, cursor);
    },

    /** Lines and bytes not yet stored in InfluxDB, and the age of the oldest (ms). */
    backlog(): { lines: number; bytes: number; oldestAgeMs: number } {
      let lines = 0;
      let oldest: number | undefined;
      for (const s of segments) {
        if (s.index < cursor.segment) continue;
        const n = s.index === cursor.segment ? s.lines - cursor.line : s.lines;
        if (n > 0 && oldest === undefined) oldest = s.birth;
        lines += n;
      }
      return { lines, bytes: unshippedBytes(), oldestAgeMs: oldest === undefined ? 0 : Math.max(0, clock.now() - oldest) };
    },

    /** Called after each group commit, so the shipper can wake. */
    onDurable(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close(): Promise<void> {
      while (flushing) await flushing;
      closed = true;
      await handle.close();
    },
  };
}

function recoverSegments(dir: string): Segment[] {
  const segments: Segment[] = [];
  const files = readdirSync(dir).filter((f) => SEGMENT_RE.test(f)).sort();
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
