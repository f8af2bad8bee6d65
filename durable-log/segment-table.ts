import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.ts';
import { createCursorFile, readCursor } from './cursor-file.ts';
import { recoverSegments } from './recover.ts';
import { backlogOf, isBefore, readLines, segmentName, type Backlog, type Cursor, type SegmentInfo } from './segments.ts';

export interface SegmentTableOptions {
  dir: string;
  clock: Clock;
  /** Disk budget for unshipped lines; past it whole oldest segments are dropped. */
  maxBytes: number;
  onDrop: (lines: number, bytes: number) => void;
  onCursorError?: (error: unknown) => void;
  onListenerError?: (error: unknown) => void;
}

export type SegmentTable = ReturnType<typeof openSegmentTable>;

/**
 * The durable log's segments and the shipper's cursor into them: what is written, what is
 * shipped, and which files may go (shipped, or over the disk budget). Recovered from the
 * directory when opened.
 */
export function openSegmentTable(options: SegmentTableOptions) {
  const { dir, clock } = options;
  const segments: SegmentInfo[] = recoverSegments(dir);
  let cursor = readCursor(dir, segments);
  if (segments.length === 0) {
    // Everything was shipped: continue the numbering where the cursor stands.
    segments.push({ index: cursor.segment, birth: clock.now(), size: 0, lines: 0 });
    cursor = { segment: cursor.segment, offset: 0, line: 0 };
  }
  const cursorFile = createCursorFile(dir, () => cursor, options.onCursorError);
  const active = (): SegmentInfo => segments[segments.length - 1]!;

  function drop(segment: SegmentInfo): void {
    segments.shift();
    try {
      unlinkSync(join(dir, segmentName(segment)));
    } catch {
      // already gone
    }
  }

  /** Delete the segments the cursor has passed, the newest (being written) excepted. */
  function dropShipped(): boolean {
    const before = segments.length;
    while (segments.length > 1 && segments[0]!.index < cursor.segment) drop(segments[0]!);
    const head = segments[0]!;
    if (segments.length > 1 && head.index === cursor.segment && cursor.offset >= head.size) {
      drop(head);
      cursor = { segment: segments[0]!.index, offset: 0, line: 0 };
    }
    return segments.length < before;
  }

  return {
    active,
    cursor: (): Cursor => cursor,

    /** The segment after the active one, for a rotation to open before it joins the table. */
    following: (): SegmentInfo => ({ index: active().index + 1, birth: clock.now(), size: 0, lines: 0 }),

    /** A rotation opened `segment`: it is the active one from now on, and the one before it goes if it is shipped. */
    add(segment: SegmentInfo): void {
      segments.push(segment);
      if (dropShipped()) cursorFile.saveSoon();
    },

    /** `bytes` holding `lines` lines were written to the active segment. */
    wrote(bytes: number, lines: number): void {
      const seg = active();
      seg.size += bytes;
      seg.lines += lines;
    },

    /** Past the budget, drop whole oldest segments, shipped or not, and count their lines. */
    enforceBudget(): void {
      let bytes = backlogOf(segments, cursor, 0).bytes;
      while (bytes > options.maxBytes && segments.length > 1) {
        const oldest = segments[0]!;
        const skippedBytes = oldest.index === cursor.segment ? oldest.size - cursor.offset : oldest.size;
        const skippedLines = oldest.index === cursor.segment ? oldest.lines - cursor.line : oldest.lines;
        drop(oldest);
        cursor = { segment: segments[0]!.index, offset: 0, line: 0 };
        cursorFile.saveNow();
        bytes -= skippedBytes;
        if (skippedLines > 0) {
          try {
            options.onDrop(skippedLines, skippedBytes);
          } catch (error) {
            options.onListenerError?.(error); // the drop is done and counted by the caller's own metric
          }
        }
      }
    },

    /** Mark everything before `next` as stored in InfluxDB; finished segments are deleted. */
    commit(next: Cursor): void {
      if (!isBefore(cursor, next)) return; // overtaken by a budget drop
      cursor = next;
      dropShipped();
      cursorFile.saveSoon();
    },

    read: (maxLines: number): { lines: string[]; next: Cursor } | undefined => readLines(dir, segments, cursor, maxLines),
    snapshot: (): { segments: SegmentInfo[]; cursor: Cursor } => ({ segments: segments.map((seg) => ({ ...seg })), cursor }),
    backlog: (): Backlog => backlogOf(segments, cursor, clock.now()),
    saveCursorIfDue: (): void => cursorFile.saveDue(),
  };
}
