/**
 * The durable log's groups: the lines appended between two commits, already UTF-8 with
 * their newlines, and the one promise every append into a group shares. A line is encoded
 * as it is appended, not when the group is written: the string (a tree of the pieces a point
 * is made of) then dies young, instead of surviving the scavenges until the write, where
 * lines were most of what the GC copied during a flood of readings.
 */
export interface Group {
  bytes: Buffer | undefined;
  used: number;
  count: number;
  /** Some append in it is owed an fdatasync (QoS 1, or a sync point). */
  sync: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const GROUP_MAX_LINES = 4096;
/** A group's first buffer; it doubles as lines come (a full group of soil points is ~450 KiB). */
const GROUP_BUFFER_BYTES = 64 * 1024;
/** Written groups' buffers kept for the next groups (up to 1 MiB each), so a flood does not allocate one per commit. */
const SPARE_BUFFERS = 4;
const SPARE_MAX_BYTES = 1024 * 1024;

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  done.catch(() => undefined); // every appender gets the promise and handles it; an unobserved group is no crash
  return { bytes: undefined, used: 0, count: 0, sync: false, done, resolve, reject };
}

/** The groups waiting to be written: the one filling, and full ones (oldest first). */
export function createGroupBuffers() {
  const spare: Buffer[] = [];
  let pending = newGroup();
  // Groups that reached GROUP_MAX_LINES while a commit was running, oldest first. They are
  // written together and settled one per turn.
  const full: Group[] = [];

  return {
    /** The group new lines go into. */
    current(): Group {
      if (pending.count >= GROUP_MAX_LINES) {
        full.push(pending);
        pending = newGroup();
      }
      return pending;
    },

    /** Encode one line into `group` (the hot path: no allocation but a buffer growing). */
    put(group: Group, line: string): void {
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
    },

    hasWaiting: (): boolean => full.length > 0 || pending.count > 0,

    /** The newest group not yet taken for writing, if any. */
    newestWaiting: (): Group | undefined => (pending.count > 0 ? pending : full.at(-1)),

    /**
     * Every waiting group, oldest first, for one write: a turn of the event loop can deliver
     * many groups' worth of readings, and a write each would let them pile up in memory.
     */
    takeWaiting(): Group[] {
      const groups = full.splice(0);
      if (pending.count > 0) {
        groups.push(pending);
        pending = newGroup();
      }
      return groups;
    },

    /** The kernel has these groups' bytes (or refused them): keep a few buffers for the next groups. */
    recycle(groups: readonly Group[]): void {
      for (const group of groups) {
        if (group.bytes !== undefined && group.bytes.length <= SPARE_MAX_BYTES && spare.length < SPARE_BUFFERS) spare.push(group.bytes);
        group.bytes = undefined;
      }
    },
  };
}
