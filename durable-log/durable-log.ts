import { mkdirSync } from 'node:fs';
import type { Clock } from '../lib/clock.ts';
import { DEFAULT_SEGMENT_BYTES, freeBytesOf } from './budget.ts';
import { createGroupBuffers } from './group-buffers.ts';
import { openSegmentTable } from './segment-table.ts';
import type { Backlog, Cursor, SegmentInfo } from './segments.ts';
import { openWriter } from './writer.ts';
import type { Replica } from './replica.ts';

/**
 * The durable log: the local log of points on their way to InfluxDB, written before a
 * reading is acknowledged and holding the backlog through an InfluxDB outage. Points are
 * line-protocol lines, appended to numbered segment files; appends are group-committed
 * (one write + fdatasync for everything that arrived while the previous commit ran), and a
 * QoS 1 PUBACK waits for that commit. The InfluxDB shipper reads from a cursor and commits
 * it after each stored batch; replaying from a stale cursor after a crash only rewrites
 * identical points (same series and timestamp).
 *
 * Its parts: group-buffers.ts (lines waiting for a commit), writer.ts (one write for them,
 * segment rotation), commit-pipeline.ts (fdatasync and settling, in order),
 * segment-table.ts (segments, the cursor, the disk budget), budget.ts (segment sizes against
 * the budget and the volume), recover.ts and cursor-file.ts
 * (what the directory says at start).
 */

export type { Cursor, Replica };

export interface DurableLogOptions {
  dir: string;
  clock: Clock;
  /** fdatasync before resolving appends. */
  fsync: boolean;
  /** Disk budget for unshipped lines; past it whole oldest segments are dropped. */
  maxBytes: number;
  /** The largest segment (64 MiB); smaller when the budget or the volume's free space is small (budget.ts). */
  segmentBytes?: number;
  /** Free bytes on the volume of `dir` (statfs); a test passes a small volume. */
  freeBytes?: (dir: string) => Promise<number>;
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

/**
 * How long a refused write keeps the log "not ready" with no write kept since. Not for ever:
 * a load balancer that takes the instance out on it would keep the devices, and so the
 * write that finds the disk writable again, away.
 */
const REFUSAL_SHOWN_MS = 10_000;
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/** Not ready while the newest group settled was refused, in the last REFUSAL_SHOWN_MS; the reason names the error. */
function readinessAfter(refused: { at: number; error: unknown } | undefined, now: number): true | { ready: false; reason: string } {
  if (!refused || now - refused.at > REFUSAL_SHOWN_MS) return true;
  const { code, message } = refused.error as { code?: string; message?: string };
  const cause = code ?? message ?? String(refused.error);
  return {
    ready: false,
    reason: NO_SPACE.has(code ?? '')
      ? `no room on the data volume for the durable log (${cause}): QoS 1 readings are refused`
      : `the durable log cannot write (${cause}): QoS 1 readings are refused`,
  };
}

/** Who hears of each written group. A listener's failure is its own: the commit it was told about stands. */
function createCommitListeners(onError: ((error: unknown) => void) | undefined) {
  const listeners = new Set<() => void>();
  return {
    notify(): void {
      for (const l of listeners) {
        try {
          l();
        } catch (error) {
          onError?.(error);
        }
      }
    },
    add(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Resolves once everything appended so far is fdatasync'd (`syncPoint`). */
function syncPointOf(groups: ReturnType<typeof createGroupBuffers>, writer: Awaited<ReturnType<typeof openWriter>>): Promise<void> {
  const group = groups.newestWaiting();
  if (group) {
    group.sync = true;
    return group.done;
  }
  const taken = writer.lastTaken();
  return (async () => {
    // Everything appended so far was taken for writing. Its groups settle in order, one per
    // turn, a refusal too: the loop can end while a refusal still waits its turn, and a
    // QoS 1 retransmission of the refused reading must not be acknowledged (its original is
    // not stored). So this settles after the newest of them, and fails with it.
    if (taken) await taken.done;
    await writer.idle();
    await writer.syncUnsynced();
  })();
}

export async function openDurableLog(options: DurableLogOptions) {
  mkdirSync(options.dir, { recursive: true });
  let replica: Replica | undefined;
  // Lines the disk budget drops are gone from this log (counted): their copies go too, or a
  // long InfluxDB outage would grow the replica past the budget.
  const table: ReturnType<typeof openSegmentTable> = openSegmentTable({
    ...options,
    onDrop: (lines, bytes) => {
      replica?.shipped(table.cursor());
      options.onDrop(lines, bytes);
    },
  });
  const groups = createGroupBuffers();
  const listeners = createCommitListeners(options.onListenerError);
  const freeBytes = options.freeBytes ?? freeBytesOf;
  const writer = await openWriter({
    dir: options.dir, fsync: options.fsync, table, groups, onWritten: listeners.notify, now: () => options.clock.now(),
    replica: () => replica, onReplicaError: (error) => options.onListenerError?.(error),
    limits: { configured: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, maxBytes: options.maxBytes }, freeBytes: () => freeBytes(options.dir),
  });
  let closed = false;

  return {
    /**
     * Append points; resolves once they are on disk (fdatasync'd when `fsync`). Every
     * append until the next commit starts shares one promise: under load thousands of
     * appends cost one write, one fdatasync and one promise.
     */
    append(lines: readonly string[], options: { sync?: boolean } = {}): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      if (lines.length === 0) return Promise.resolve();
      const group = writer.groupFor(lines.length, options.sync !== false);
      for (const line of lines) groups.put(group, line);
      return group.done;
    },

    /**
     * One point, without an array around it (the ingest's hot path); the same promise as
     * `append`. `sync` false (a QoS 0 reading): written with its group, but no fdatasync
     * is owed for it; it resolves once written, which survives a killed process.
     */
    appendLine(line: string, sync = true): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      const group = writer.groupFor(1, sync);
      groups.put(group, line);
      return group.done;
    },

    /**
     * Resolves once everything appended so far is fdatasync'd, QoS 0 groups included: a QoS 1
     * retransmission of a reading first sent at QoS 0 is acknowledged only then.
     */
    syncPoint(): Promise<void> {
      if (closed) return Promise.reject(new Error('durable log is closed'));
      return syncPointOf(groups, writer);
    },

    /** Wait for every append made so far to be durable. */
    flush: (): Promise<void> => writer.idle(),

    /** Read up to `maxLines` durable lines from the cursor; `next` is where a commit moves it. */
    read(maxLines: number): { lines: string[]; next: Cursor } | undefined {
      return table.read(maxLines);
    },

    /** The segment table and cursor, for a shipper in another thread. */
    snapshot(): { segments: SegmentInfo[]; cursor: Cursor } {
      return table.snapshot();
    },

    /** Mark everything before `next` as stored in InfluxDB; finished segments are deleted, and the replica's copies of them. */
    commit(next: Cursor): void {
      table.commit(next);
      replica?.shipped(table.cursor());
    },

    /**
     * Keep a copy of every write from now on off this host (clustered mode), or stop
     * (undefined): each write's PUBACKs then wait for its copy too (replica.ts).
     */
    setReplica(next: Replica | undefined): void {
      replica = next;
    },

    /** Lines appended but not yet written to the segment (held in memory until the next commit). */
    unwrittenLines: (): number => writer.unwritten(),

    /** Lines and bytes not yet stored in InfluxDB, and the age of the oldest (ms). */
    backlog(): Backlog {
      return table.backlog();
    },

    /**
     * Not ready while appends are refused (the newest group settled was, in the last
     * REFUSAL_SHOWN_MS): QoS 1 readings get no PUBACK, so an instance that answers "ready"
     * would draw devices whose readings it cannot keep. The reason names the error.
     */
    readiness: (): true | { ready: false; reason: string } => readinessAfter(writer.refusal(), options.clock.now()),

    /** The size the active segment may grow to (budget.ts), for tests and diagnostics. */
    segmentBytes: (): number => writer.segmentBytes(),

    /** Called after each group is written (before its fdatasync), so the shipper can wake. */
    onWritten: listeners.add,

    /** Write what is waiting, sync what QoS 0 groups left unsynced (an orderly stop owes a power cut nothing), and close. */
    async close(): Promise<void> {
      await writer.idle();
      table.saveCursorIfDue();
      closed = true;
      await writer.close();
    },
  };
}
