import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';

/** Called once per message: without an error when its readings are durable or it was refused; with one when the disk failed. */
export type Settle = (error?: Error) => void;

/** Readings appended to the log that become durable together (one group commit). */
export interface Group {
  done: Promise<void>;
  settled: boolean;
  readings: AcceptedReading[];
  devices: DeviceInfo[];
  settles: Settle[];
  /** Readings of this group whose timestamp the server assigned: [`${device}\0${dedupKey}`, ts]. */
  assigned?: Array<[string, number]>;
  /** Clustered: the shared-dedup keys this group's readings were claimed under (shared-dedup.ts). */
  claimed?: string[];
}

export interface GroupCommitHooks {
  /** Resolves once everything appended so far is fdatasync'd (a QoS 1 duplicate of a QoS 0 original waits for it). */
  syncPoint?: (() => Promise<void>) | undefined;
  /** Runs first when a group settles either way (the received counts must not wait for a disk that keeps failing). */
  flushCounters: () => void;
  /** A group is durable, after its publishes are settled: count and hand on its readings. */
  durable: (group: Group) => void;
  /** A group's append failed, before its publishes are failed: let its readings be sent again. */
  notStored: (group: Group, error: Error) => void;
}

/**
 * The ingest's group bookkeeping: which group an append belongs to, settling every publish of
 * a group when its commit resolves, and settling a duplicate as its original is. The group
 * still filling and the latest one not yet durable are kept: groups commit in order, so a
 * retransmission that arrives while its original is on its way to disk (a QoS 1 resend after
 * a reconnect) waits for the latest group: the original is in it or earlier.
 */
export function createGroupCommit(hooks: GroupCommitHooks) {
  let filling: Group | undefined;
  let latest: Group | undefined;
  let failedGroups = 0;

  /**
   * The group an append's promise belongs to; a new promise starts a new group. `inLog`
   * false: readings with nothing to store (a gateway's), settled at once. Such a group is
   * no commit of the log, so it must not become `latest`: a retransmission waiting on it
   * would be acknowledged before its original, still on its way to disk, is durable.
   */
  function groupOf(done: Promise<void>, inLog = true): Group {
    if (inLog && filling?.done === done) return filling;
    const group: Group = { done, settled: false, readings: [], devices: [], settles: [] };
    if (inLog) filling = latest = group;
    done.then(() => completed(group), (error: unknown) => failed(group, error as Error));
    return group;
  }

  function completed(group: Group): void {
    group.settled = true;
    if (filling === group) filling = undefined;
    hooks.flushCounters();
    for (const settle of group.settles) settle();
    hooks.durable(group);
  }

  function failed(group: Group, error: Error): void {
    group.settled = true;
    failedGroups++;
    if (filling === group) filling = undefined;
    hooks.flushCounters(); // a disk that fails every append must not stop the received counts
    hooks.notStored(group, error);
    for (const settle of group.settles) settle(error);
  }

  /** A duplicate is acknowledged as its original is: once the latest pending group is durable. */
  function settleDuplicate(settle: Settle | undefined, qos: number): void {
    if (!settle) return;
    const failuresBefore = failedGroups;
    // The original may have come at QoS 0, in a group written but not synced: a QoS 1 PUBACK
    // waits for a sync that covers it (it commits after every earlier group).
    const waitFor = qos > 0 && hooks.syncPoint ? hooks.syncPoint() : latest && !latest.settled ? latest.done : undefined;
    if (!waitFor) return settle();
    waitFor.then(
      () => settle(failedGroups === failuresBefore ? undefined : new Error('the original reading was not stored')),
      (error: unknown) => settle(error as Error),
    );
  }

  return { groupOf, settleDuplicate };
}
