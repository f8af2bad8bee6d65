import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cursor, SegmentInfo } from './segments.ts';

/** Where the shipper stood at the last save; a cursor outside the segments found means start over from the oldest. */
export function readCursor(dir: string, segments: readonly SegmentInfo[]): Cursor {
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

const CURSOR_SAVE_MS = 250;

/**
 * Saves the cursor. The shipper commits a batch several times a second; a file write and
 * rename for each would block this thread on a busy disk, so a commit saves at most every
 * CURSOR_SAVE_MS: a crash in between only replays points InfluxDB overwrites with themselves.
 * A failed save is reported, never thrown: a stale cursor costs only such replays.
 */
export function createCursorFile(dir: string, current: () => Cursor, onError?: (error: unknown) => void) {
  let timer: NodeJS.Timeout | undefined;
  function saveNow(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    try {
      writeCursor(dir, current());
    } catch (error) {
      onError?.(error);
    }
  }
  return {
    saveNow,
    saveSoon(): void {
      timer ??= setTimeout(() => {
        timer = undefined;
        saveNow();
      }, CURSOR_SAVE_MS).unref();
    },
    /** Save now if a save is due (at close). */
    saveDue(): void {
      if (timer) saveNow();
    },
  };
}
