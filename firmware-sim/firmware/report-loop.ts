import type { Random } from '../../lib/random.ts';
import type { SimClock } from '../sim-clock.ts';

/**
 * Report at the device's interval with jitter (± `jitter` share), first report at a random
 * offset within one interval, as nodes installed at different moments do. Sim time.
 */
export function createReportLoop(o: { intervalS: number; jitter: number; clock: SimClock; rng: Random; report: () => void }) {
  let cancel: (() => void) | undefined;
  let stopped = false;
  const next = (delayMs: number) => {
    cancel = o.clock.after(delayMs, () => {
      if (stopped || o.clock.ended()) return;
      o.report();
      next(o.intervalS * 1000 * (1 + o.jitter * (2 * o.rng() - 1)));
    });
  };
  return {
    start(): void {
      stopped = false;
      next(o.rng() * o.intervalS * 1000);
    },
    stop(): void {
      stopped = true;
      cancel?.();
    },
  };
}
