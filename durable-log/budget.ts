import { statfs } from 'node:fs/promises';
import type { Cursor, SegmentInfo } from './segments.ts';

/**
 * How large the durable log's segments grow, and when one is closed. A segment is deleted
 * only once everything in it is shipped and a newer one exists, so the active segment is
 * the disk the log holds however healthy InfluxDB is: on an 8 MB data volume a 64 MiB
 * segment filled the disk with points already stored, and every QoS 1 reading was refused
 * from then on. So segments are sized against the volume as well as the budget, and a
 * segment whose every line is shipped is closed early, so that it can go.
 */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Smaller segments only add files and rotations (each waits for the syncs of the last file). */
const MIN_SEGMENT_BYTES = 64 * 1024;
/** A shipped segment past this is closed at the next write: rare enough to cost nothing under load. */
const MAX_SHIPPED_SEGMENT_BYTES = 4 * 1024 * 1024;

export function segmentBytesFor(limits: { configured: number; maxBytes: number; freeBytes: number }): number {
  // Four segments at least fit in the budget, so dropping one frees a quarter at most; and
  // eight in the free space, so that one segment, and the next opened before the old one
  // is deleted, never take the volume by themselves.
  return Math.max(MIN_SEGMENT_BYTES, Math.min(limits.configured, Math.floor(limits.maxBytes / 4), Math.floor(limits.freeBytes / 8)));
}

/** Close the active segment before writing `incoming` bytes to it? */
export function shouldRotate(active: SegmentInfo, cursor: Cursor, incoming: number, segmentBytes: number): boolean {
  if (active.size === 0) return false;
  if (active.size + incoming > segmentBytes) return true;
  // Everything in it is in InfluxDB: a new segment lets this one be deleted now.
  const shipped = cursor.segment === active.index && cursor.offset >= active.size;
  return shipped && active.size >= Math.max(MIN_SEGMENT_BYTES, Math.min(MAX_SHIPPED_SEGMENT_BYTES, Math.floor(segmentBytes / 4)));
}

/** Bytes an unprivileged writer may still use on the volume holding `dir`; unknown (no statfs) is no limit. */
export async function freeBytesOf(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
