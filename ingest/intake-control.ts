/**
 * Backpressure for overload. When points arrive faster than InfluxDB stores them, the
 * durable log absorbs the difference; that is right for an outage (the spool), but under
 * a sustained flood with InfluxDB up it only turns into lag and memory: every reading
 * arrives later and later. So past `maxBacklog` unshipped points, while InfluxDB answers,
 * the broker stops reading its sockets (publishers feel TCP backpressure, QoS 1 senders
 * wait for their PUBACKs) until half the backlog is stored. `storageUp` false (the app says:
 * nothing stored for 10 s) releases it: during an outage the spool takes the readings.
 */
export interface IntakeControlDeps {
  /** 0 turns the control off. */
  maxBacklog: number;
  backlogLines: () => number;
  storageUp: () => boolean;
  hold: (hold: boolean) => void;
  held: () => boolean;
  onChange?: (held: boolean, backlog: number) => void;
}

export function createIntakeControl(deps: IntakeControlDeps) {
  return {
    /** Decide again (after each durable append, each stored batch, and on a timer while held). */
    check(): void {
      if (deps.maxBacklog === 0) return;
      const lines = deps.backlogLines();
      if (!deps.held()) {
        if (lines > deps.maxBacklog && deps.storageUp()) {
          deps.hold(true);
          deps.onChange?.(true, lines);
        }
      } else if (lines <= deps.maxBacklog / 2 || !deps.storageUp()) {
        deps.hold(false);
        deps.onChange?.(false, lines);
      }
    },
  };
}
