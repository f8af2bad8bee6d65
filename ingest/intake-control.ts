/**
 * Backpressure for overload. When points arrive faster than InfluxDB stores them, the
 * durable log absorbs the difference; that is right for an outage, but under
 * a sustained flood with InfluxDB up it only turns into lag and memory: every reading
 * arrives later and later. So past `maxBacklog` unshipped points, while InfluxDB answers,
 * the broker stops reading its sockets (publishers feel TCP backpressure, QoS 1 senders
 * wait for their PUBACKs) until half the backlog is stored. `storageUp` false (the app says:
 * nothing stored for 10 s) releases it: during an outage the durable log keeps the readings.
 *
 * A hold stops every socket, CONNECTs, PINGREQs and valve acks included, so it never lasts
 * longer than `maxHoldMs` at a time, and is followed by at least `minOpenMs` of reading:
 * against a very slow InfluxDB, keepalives and acknowledgements still get through.
 */
export interface IntakeControlDeps {
  /** 0 turns the control off. */
  maxBacklog: number;
  backlogLines: () => number;
  storageUp: () => boolean;
  hold: (hold: boolean) => void;
  held: () => boolean;
  onChange?: (held: boolean, backlog: number) => void;
  now: () => number;
  /** Longest continuous hold (default 10 s: inside 1.5 × a 10 s keepalive). */
  maxHoldMs?: number;
  /** Least reading between two holds that ran to `maxHoldMs` (default 2 s). */
  minOpenMs?: number;
}

export function createIntakeControl(deps: IntakeControlDeps) {
  const maxHoldMs = deps.maxHoldMs ?? 10_000;
  const minOpenMs = deps.minOpenMs ?? 2_000;
  let heldSince = 0;
  let openUntil = 0; // after a hold that ran out: no new hold before this
  const set = (hold: boolean, lines: number): void => {
    deps.hold(hold);
    deps.onChange?.(hold, lines);
  };
  return {
    /** Decide again (after each durable append, every so many appends, and on a timer while held). */
    check(): void {
      if (deps.maxBacklog === 0) return;
      const lines = deps.backlogLines();
      const now = deps.now();
      if (!deps.held()) {
        if (lines > deps.maxBacklog && now >= openUntil && deps.storageUp()) {
          heldSince = now;
          set(true, lines);
        }
      } else if (lines <= deps.maxBacklog / 2 || !deps.storageUp()) {
        set(false, lines);
      } else if (now - heldSince >= maxHoldMs) {
        openUntil = now + minOpenMs;
        set(false, lines);
      }
    },
  };
}
