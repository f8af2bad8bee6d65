import type { Group } from './group-buffers.ts';

/**
 * Pipelined group commit, after the write. The writer writes whatever is waiting as soon as
 * the previous write is done, without waiting for that write's fdatasync; a sync covers
 * every write made before it began, and the groups it covers settle, in write order, when it
 * ends. So a slow fdatasync (this host's disk has 100 ms ones) delays only the PUBACKs and
 * rules of the groups it covers, never the next write or the shipper's view of it. With a
 * replica (clustered mode, replica.ts), a write's groups also wait for its copy, which ran
 * beside the write and its sync; groups still settle in write order.
 */
export function createCommitPipeline(datasync: () => Promise<void>, now: () => number) {
  const { settleInTurns, refusal } = createTurnSettler(now);

  /** `sync`: still owed an fdatasync; `copied`: the replica has it (or there is none). */
  interface Written { seq: number; batches: Group[]; sync: boolean; copied: boolean; error?: unknown }
  const awaiting: Written[] = []; // written, not yet settled, in write order
  let writtenSeq = 0;
  let syncing: Promise<void> | undefined;
  /** Bytes of the active segment written without an fdatasync (QoS 0 groups). */
  let unsynced = false;
  /** A write was in progress when a sync failed: its group is refused too. */
  let writing = false;
  let refuseWriteInProgress: unknown;

  /** Settle what may settle, in order, and start a sync when a written group needs one. */
  function pump(): void {
    // Groups owed no fdatasync and no copy (or refused already) settle once nothing written before them waits.
    while (awaiting.length > 0 && (awaiting[0]!.error !== undefined || (!awaiting[0]!.sync && awaiting[0]!.copied))) {
      const head = awaiting.shift()!;
      settleInTurns(head.batches, head.error);
    }
    if (syncing || !awaiting.some((w) => w.sync && w.error === undefined)) return;
    let upTo = writtenSeq;
    unsynced = false; // this sync covers the QoS 0 writes before it too
    syncing = (async () => {
      let error: unknown;
      try {
        await datasync();
      } catch (e) {
        error = e;
        unsynced = true;
        // Pages written while this sync ran may have been in the writeback that failed, and
        // Linux reports a failed writeback once: a later sync could succeed without them.
        // So everything written until now is refused, and a write in progress too.
        upTo = writtenSeq;
        if (writing) refuseWriteInProgress = e;
      }
      // A failed sync keeps its lines (the shipper may have read them): the refused senders
      // send them again, and a point stored twice is stored once (the ingest gives a resent
      // reading the time it gave the original). Those synced settle in `pump`, in order, once copied.
      for (const w of awaiting) {
        if (w.seq > upTo) break;
        w.sync = false;
        if (error !== undefined) w.error ??= error;
      }
      syncing = undefined;
      pump();
    })();
  }

  /**
   * fdatasync what QoS 0 groups left written but unsynced. The mark is cleared first: a QoS 0
   * write made during this sync sets it again (it may not be covered); a failed sync puts it back.
   */
  async function syncUnsynced(): Promise<void> {
    if (!unsynced) return;
    unsynced = false;
    try {
      await datasync();
    } catch (error) {
      unsynced = true;
      throw error;
    }
  }

  return {
    syncing: (): Promise<void> | undefined => syncing,
    refusal,
    syncUnsynced,

    /** Every sync of the current file finished (the groups it covers settle), then what QoS 0 groups left unsynced synced. */
    async syncFile(): Promise<void> {
      while (syncing) await syncing;
      await syncUnsynced();
    },

    beginWrite(): void {
      writing = true;
    },

    /**
     * The write of `groups` is done; `sync`: one of them is owed an fdatasync, else (with fsync
     * on) they are left unsynced; `copied`: the replica's copy of it, when there is one (it settles).
     */
    written(groups: Group[], sync: boolean, fsync: boolean, copied?: Promise<void>): void {
      if (fsync && !sync) unsynced = true;
      const error = refuseWriteInProgress;
      refuseWriteInProgress = undefined;
      writing = false;
      const entry: Written = { seq: ++writtenSeq, batches: groups, sync, copied: copied === undefined, ...(error === undefined ? {} : { error }) };
      awaiting.push(entry);
      copied?.then(() => {
        entry.copied = true;
        pump();
      });
      pump();
    },

    /** The write failed: no sync can refuse it any more (it is refused already). */
    writeFailed(): void {
      writing = false;
      refuseWriteInProgress = undefined;
    },

    /** Refuse `groups` in turn, after the groups written before them. */
    refuse(groups: Group[], error: unknown): void {
      awaiting.push({ seq: ++writtenSeq, batches: groups, sync: false, copied: true, error });
      pump();
    },
  };
}

/**
 * Groups written together are settled one per event-loop turn, in order: each group's
 * completion (PUBACKs, the rules for its readings) is a bounded stretch of work, and the
 * sockets are read in between. A refusal (a failed write or sync) goes through the same
 * queue, so it too comes in order.
 */
function createTurnSettler(now: () => number) {
  const settling: Array<{ group: Group; error: unknown }> = [];
  /** The newest group settled was refused: with what, and when (undefined once one is kept). */
  let refusal: { error: unknown; at: number } | undefined;
  function settleOne({ group, error }: { group: Group; error: unknown }): void {
    if (error === undefined) {
      refusal = undefined;
      group.resolve();
    } else {
      refusal = { error, at: now() };
      group.reject(error);
    }
  }
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
  return { settleInTurns, refusal: (): { error: unknown; at: number } | undefined => refusal };
}
