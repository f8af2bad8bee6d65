import type { Logger } from './logger.ts';

export interface RefusalLogOptions {
  logger: Logger;
  /** How long repeats of one (reason, address) are counted before their one summary line. */
  intervalMs?: number;
  /** Distinct (reason, address) pairs followed per interval; past it they share one line per reason. */
  maxKeys?: number;
  timer?: { setInterval: typeof setInterval; clearInterval: typeof clearInterval };
}

interface Entry { reason: string; address: string; count: number }

/**
 * Refusals (bad packets, denied publishes, rate limits) logged without letting an abuser
 * write the log: the first refusal of a reason from an address in an interval is logged
 * at once, with its details; repeats are only counted, and at the end of the interval
 * each (reason, address) that repeated gets one line with its count. A fuzzing minute
 * once wrote 6,894 warn lines; this writes a couple per reason and address per interval.
 * Memory is bounded: past `maxKeys` pairs in one interval, new addresses are counted per
 * reason only. The counters in /metrics stay exact; this is only what reaches the log.
 */
export function createRefusalLog(options: RefusalLogOptions) {
  const intervalMs = options.intervalMs ?? 10_000;
  const maxKeys = options.maxKeys ?? 1_000;
  const timer = options.timer ?? { setInterval, clearInterval };
  let entries = new Map<string, Entry>();
  let overflow = new Map<string, number>(); // by reason, once maxKeys pairs are followed

  const flush = (): void => {
    const ended = entries;
    const spilled = overflow;
    entries = new Map();
    overflow = new Map();
    for (const { reason, address, count } of ended.values()) {
      if (count > 1) options.logger.warn({ reason, address, repeats: count - 1, intervalS: intervalMs / 1000 }, 'refusals repeated');
    }
    for (const [reason, count] of spilled) options.logger.warn({ reason, address: 'others', repeats: count, intervalS: intervalMs / 1000 }, 'refusals repeated');
  };
  const handle = timer.setInterval(flush, intervalMs);
  (handle as { unref?: () => void }).unref?.();

  return {
    /** One refusal: logged with `detail` if it is the first of its reason and address this interval, else counted. */
    note(reason: string, address: string, message: string, detail: Record<string, unknown> = {}): void {
      const key = `${reason}\u0000${address}`;
      const entry = entries.get(key);
      if (entry) {
        entry.count += 1;
        return;
      }
      if (entries.size >= maxKeys) {
        overflow.set(reason, (overflow.get(reason) ?? 0) + 1);
        return;
      }
      entries.set(key, { reason, address, count: 1 });
      options.logger.warn({ ...detail, reason, address }, message);
    },
    flush,
    /** Stop the interval; what was counted is written now. */
    close(): void {
      timer.clearInterval(handle);
      flush();
    },
  };
}
export type RefusalLog = ReturnType<typeof createRefusalLog>;
