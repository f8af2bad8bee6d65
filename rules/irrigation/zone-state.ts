import { z } from 'zod';

/** The latest of one soil sensor, enough to judge whether it may count. */
export const SensorTrack = z.object({
  deviceId: z.string(),
  lastAt: z.number(),
  moisture: z.number(),
  temperature: z.number().optional(),
  /** The device's report interval, for staleness. */
  intervalS: z.number().positive(),
  /** How many readings in a row carried exactly these values. */
  sameCount: z.number().int().min(1),
  /** When the moisture last changed (absent in state saved before it was kept). */
  movedAt: z.number().optional(),
  /** Set when the moisture stood still through a watering that moved the zone's other sensors (sensor-check.ts); cleared when it moves. */
  flatSince: z.number().optional(),
});
export type SensorTrack = z.infer<typeof SensorTrack>;

/** `disagrees`: one of two sensors that drifted apart, judged the wrong one (rules/irrigation/sensor-check.ts). */
export type ExclusionReason = 'stale' | 'stuck' | 'out_of_range' | 'disagrees';

export interface ZoneMoisture {
  /** Median of the counted sensors; undefined when none counts. */
  moisture: number | undefined;
  /** Median soil temperature of the counted sensors that report one. */
  temperatureC: number | undefined;
  counted: string[];
  excluded: Array<{ deviceId: string; reason: ExclusionReason }>;
}

export interface HealthLimits {
  staleFactor: number;
  stuckCount: number;
  validRange: readonly [number, number];
}

/** Fold one reading into a sensor's track. */
export function trackReading(previous: SensorTrack | undefined, r: { deviceId: string; at: number; moisture: number; temperature?: number; intervalS: number }): SensorTrack {
  // A late (store-and-forward) reading older than what we hold says nothing about now.
  if (previous && r.at < previous.lastAt) return previous;
  // Stuck = the whole reading repeats. Moisture alone repeats legitimately on stable soil with
  // coarse sensors (0.5 % steps); soil temperature follows the day and rarely repeats for hours.
  const same = previous !== undefined && previous.moisture === r.moisture && previous.temperature === r.temperature;
  const still = previous !== undefined && previous.moisture === r.moisture;
  return {
    deviceId: r.deviceId,
    lastAt: r.at,
    moisture: r.moisture,
    temperature: r.temperature,
    intervalS: r.intervalS,
    sameCount: same ? previous.sameCount + 1 : 1,
    movedAt: still ? previous.movedAt : r.at,
    flatSince: still ? previous.flatSince : undefined,
  };
}

/** Why a sensor may not count now, or undefined when it is healthy and fresh. */
export function exclusionOf(track: SensorTrack, now: number, limits: HealthLimits): ExclusionReason | undefined {
  if (now - track.lastAt > limits.staleFactor * track.intervalS * 1000) return 'stale';
  if (track.moisture < limits.validRange[0] || track.moisture > limits.validRange[1]) return 'out_of_range';
  if (track.sameCount >= limits.stuckCount || track.flatSince !== undefined) return 'stuck';
  return undefined;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  // One or two values (most zones' sensors): no copy and sort; a + b is b + a exactly.
  if (values.length === 1) return values[0];
  if (values.length === 2) return ((values[0] as number) + (values[1] as number)) / 2;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The zone's moisture: the median of fresh readings from healthy sensors. The median,
 * not the mean, so one sensor in a puddle or in dry fill cannot swing the decision.
 * Excluded sensors are listed with the reason; the device-health rules raise their faults.
 * `distrusted`: the one of two disagreeing sensors judged wrong (rules/irrigation/sensor-check.ts).
 */
export function aggregateZone(tracks: readonly SensorTrack[], now: number, limits: HealthLimits, distrusted?: string): ZoneMoisture {
  const counted: SensorTrack[] = [];
  const excluded: ZoneMoisture['excluded'] = [];
  for (const track of tracks.length > 1 ? [...tracks].sort((a, b) => a.deviceId.localeCompare(b.deviceId)) : tracks) {
    const reason = exclusionOf(track, now, limits) ?? (track.deviceId === distrusted ? 'disagrees' : undefined);
    if (reason) excluded.push({ deviceId: track.deviceId, reason });
    else counted.push(track);
  }
  return {
    moisture: median(counted.map((t) => t.moisture)),
    temperatureC: median(counted.flatMap((t) => (t.temperature === undefined ? [] : [t.temperature]))),
    counted: counted.map((t) => t.deviceId),
    excluded,
  };
}
