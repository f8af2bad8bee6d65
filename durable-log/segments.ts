import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The durable log's on-disk shape, shared by its writer (main thread) and the shipper
 * (a worker thread): numbered segment files of newline-terminated line-protocol points,
 * and a cursor saying how far InfluxDB has them.
 */
export interface Cursor {
  segment: number;
  offset: number;
  /** Lines before `offset` in that segment, for backlog accounting. */
  line: number;
}

export interface SegmentInfo {
  index: number;
  /** When the segment was started (ms): the age of its oldest line, for the backlog metric. */
  birth: number;
  /** Bytes durably written. */
  size: number;
  lines: number;
}

export interface Backlog {
  lines: number;
  bytes: number;
  oldestAgeMs: number;
}

/** `{index}-{birth ms}.seg`: the index orders segments, the birth dates the oldest line. */
export const SEGMENT_RE = /^(\d{12})-(\d{13})\.seg$/;
/** Segments written before the durable log had one name; location.ts renames them at start. */
export const LEGACY_SEGMENT_RE = /^(\d{12})-(\d{13})\.wal$/;
export const segmentName = (s: Pick<SegmentInfo, 'index' | 'birth'>): string =>
  `${String(s.index).padStart(12, '0')}-${String(s.birth).padStart(13, '0')}.seg`;

export const isBefore = (a: Cursor, b: Cursor): boolean => a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset);

/** Read up to `maxLines` written lines from `cursor`; `next` is where a commit moves it. */
export function readLines(dir: string, segments: readonly SegmentInfo[], cursor: Cursor, maxLines: number): { lines: string[]; next: Cursor } | undefined {
  const chunk = readChunk(dir, segments, cursor, maxLines);
  return chunk && { lines: chunkLines(chunk.body), next: chunk.next };
}

/**
 * Read up to `maxLines` written lines from `cursor` as the bytes they are on disk (the
 * body of an InfluxDB write as it stands: no string per line, no join). `count` is the
 * number of lines; `next` is where a commit moves the cursor.
 */
export function readChunk(dir: string, segments: readonly SegmentInfo[], cursor: Cursor, maxLines: number, maxBytes = Math.min(maxLines * 512, 8 * 1024 * 1024)): { body: Buffer; count: number; next: Cursor } | undefined {
  let at = cursor;
  for (;;) {
    const seg = segments.find((s) => s.index === at.segment) ?? segments.find((s) => s.index > at.segment);
    if (!seg) return undefined;
    if (seg.index !== at.segment) at = { segment: seg.index, offset: 0, line: 0 };
    if (at.offset < seg.size) {
      const length = Math.min(seg.size - at.offset, maxBytes);
      const buf = Buffer.allocUnsafe(length);
      let fd: number;
      try {
        fd = openSync(join(dir, segmentName(seg)), 'r');
      } catch {
        return undefined; // dropped by the disk budget meanwhile: the writer moves the cursor on
      }
      try {
        readSync(fd, buf, 0, length, at.offset);
      } finally {
        closeSync(fd);
      }
      let count = 0;
      let end = 0;
      for (let nl = buf.indexOf(0x0a); nl !== -1 && count < maxLines; nl = buf.indexOf(0x0a, nl + 1)) {
        count++;
        end = nl + 1;
      }
      if (count === 0 && length === maxBytes) return readChunk(dir, segments, cursor, maxLines, maxBytes * 4); // one very long line
      if (count === 0) return undefined;
      return { body: buf.subarray(0, end), count, next: { segment: seg.index, offset: at.offset + end, line: at.line + count } };
    }
    if (seg === segments[segments.length - 1]) return undefined;
    at = { segment: seg.index + 1, offset: 0, line: 0 };
  }
}

/** The lines of a chunk read by `readChunk` (for isolating refused points, and benchmarks). */
export function chunkLines(body: Buffer): string[] {
  const text = body.toString('utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

/** Lines and bytes after the cursor, and the age of the oldest of them. */
export function backlogOf(segments: readonly SegmentInfo[], cursor: Cursor, now: number): Backlog {
  let lines = 0;
  let bytes = 0;
  let oldest: number | undefined;
  for (const s of segments) {
    if (s.index < cursor.segment) continue;
    const atCursor = s.index === cursor.segment;
    const n = atCursor ? s.lines - cursor.line : s.lines;
    bytes += atCursor ? s.size - cursor.offset : s.size;
    if (n > 0 && oldest === undefined) oldest = s.birth;
    lines += n;
  }
  return { lines, bytes, oldestAgeMs: oldest === undefined ? 0 : Math.max(0, now - oldest) };
}
