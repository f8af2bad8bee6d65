import type { DeviceKind } from '../../contracts/reading.ts';

/**
 * Battery drain per kind, in % of capacity: a sleep current per day, a cost per radio
 * report and per valve actuation (the latching solenoid pulse dominates a valve's budget).
 * Soil and tilt nodes last ~3–5 years at a 15-minute interval, as vendors quote.
 */
export const DRAIN: Record<DeviceKind, { perDay: number; perReport: number; perActuation: number }> = {
  soil: { perDay: 0.02, perReport: 0.0005, perActuation: 0 },
  tilt: { perDay: 0.02, perReport: 0.0005, perActuation: 0 },
  valve: { perDay: 0.03, perReport: 0.0005, perActuation: 0.02 },
  rain: { perDay: 0.02, perReport: 0.0005, perActuation: 0 },
  gateway: { perDay: 0, perReport: 0, perActuation: 0 },
};

export function drainBattery(percent: number, kind: DeviceKind, usage: { dtS: number; reports: number; actuations: number }): number {
  const d = DRAIN[kind];
  return Math.max(0, percent - d.perDay * (usage.dtS / 86_400) - d.perReport * usage.reports - d.perActuation * usage.actuations);
}
