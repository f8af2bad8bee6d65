import { ROLLUP_RESOLUTIONS, type RollupResolution } from '../contracts/influx-schema.ts';

/** A run of whole windows `[fromMs, toMs)` of one resolution, rolled up by one query. */
export interface RollupStep {
  resolution: RollupResolution;
  fromMs: number;
  toMs: number;
}

export interface PlanInput {
  resolution: RollupResolution;
  /** Every window ending at or before this is written; undefined before the first run. */
  doneUntilMs: number | undefined;
  /** Where a first run starts (its window is the first rolled). */
  firstMs: number;
  nowMs: number;
  /** How long after a window ends its raw points may still arrive (device clocks, the write batch). */
  graceMs: number;
  /**
   * Raw points older than this may still be on their way from the durable log (its oldest
   * unshipped point was received then): windows after it are not complete in InfluxDB yet.
   */
  pendingSinceMs?: number | undefined;
  /** At most this many windows in one step (one query's size). */
  maxWindows: number;
}

const floorTo = (ms: number, windowMs: number): number => Math.floor(ms / windowMs) * windowMs;

/** The end of the last window that is complete: its grace is over and nothing before it waits in the durable log. */
export function completeUntil(input: Pick<PlanInput, 'resolution' | 'nowMs' | 'graceMs' | 'pendingSinceMs'>): number {
  const windowMs = ROLLUP_RESOLUTIONS[input.resolution];
  const settled = Math.min(input.nowMs - input.graceMs, input.pendingSinceMs ?? Infinity);
  return floorTo(settled, windowMs);
}

/**
 * The next step: the complete windows after the cursor, at most `maxWindows` of them, or
 * undefined when there is none. The caller writes the step, moves the cursor to `toMs`,
 * and asks again — a backlog after downtime is caught up in steps of this size.
 */
export function planRollup(input: PlanInput): RollupStep | undefined {
  const windowMs = ROLLUP_RESOLUTIONS[input.resolution];
  const fromMs = input.doneUntilMs ?? floorTo(input.firstMs, windowMs);
  const until = completeUntil(input);
  if (fromMs >= until) return undefined;
  return { resolution: input.resolution, fromMs, toMs: Math.min(until, fromMs + input.maxWindows * windowMs) };
}

/**
 * Raw points before this may be deleted: older than the retention, and already in the
 * daily rollup (never delete what has not been rolled up, whatever the setting).
 * Undefined when nothing may be deleted (retention 0 keeps raw points forever).
 */
export function retentionCutoff(input: { nowMs: number; retentionDays: number; dailyDoneUntilMs: number | undefined }): number | undefined {
  if (input.retentionDays <= 0 || input.dailyDoneUntilMs === undefined) return undefined;
  const dayMs = ROLLUP_RESOLUTIONS['1d'];
  return Math.min(floorTo(input.nowMs - input.retentionDays * dayMs, dayMs), input.dailyDoneUntilMs);
}
