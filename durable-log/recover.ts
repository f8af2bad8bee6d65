import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SEGMENT_RE, type SegmentInfo } from './segments.ts';

/** The segment table as the files on disk say, at start; a torn last line is cut off. */
export function recoverSegments(dir: string): SegmentInfo[] {
  const segments: SegmentInfo[] = [];
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
