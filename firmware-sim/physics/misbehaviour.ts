import type { Random } from '../../lib/random.ts';

/** How a faulty device misbehaves in the field; the ingest and device-health rules must cope. */
export const MISBEHAVIOURS = ['malformed', 'stuck', 'clock_skew', 'silent'] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

export interface MisbehaviourState {
  mode: Misbehaviour;
  /** clock_skew: how far the device clock is off (ms, + is ahead). */
  skewMs: number;
  /** stuck: the measured values the sensor froze at. */
  frozen: Record<string, number> | undefined;
  /** silent: reports are dropped until this sim time. */
  silentUntil: number;
}

/** Pick `share` of the devices (rounded) and give each a fault mode, repeatably for a seed. */
export function assignMisbehaviours(ids: readonly string[], share: number, rng: Random): Map<string, Misbehaviour> {
  const count = Math.round(ids.length * Math.max(0, Math.min(1, share)));
  const shuffled = [...ids];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return new Map(shuffled.slice(0, count).map((id, i) => [id, MISBEHAVIOURS[i % MISBEHAVIOURS.length]!]));
}

export function initialMisbehaviour(mode: Misbehaviour, rng: Random): MisbehaviourState {
  // Skews past the ingest's 5-minute future tolerance: an unset RTC (far behind) or a wrong zone (+8 h).
  const skewMs = rng() < 0.5 ? 8 * 3_600_000 : -(30 + Math.floor(rng() * 300)) * 86_400_000;
  return { mode, skewMs, frozen: undefined, silentUntil: 0 };
}

const MEASURED = ['moisture', 'temperature', 'ec', 'pitch', 'roll', 'flow'];

/**
 * Turn a well-formed reading into what the faulty device actually sends: a string
 * payload, or undefined when it stays silent.
 */
export function misbehave(
  s: MisbehaviourState,
  reading: Record<string, number>,
  t: number,
  rng: Random,
): { state: MisbehaviourState; payload: string | undefined } {
  switch (s.mode) {
    case 'silent': {
      if (t < s.silentUntil) return { state: s, payload: undefined };
      // Drops out now and then for 2–12 hours (a flat battery contact, a flooded enclosure).
      if (rng() < 0.1) return { state: { ...s, silentUntil: t + (2 + rng() * 10) * 3_600_000 }, payload: undefined };
      return { state: s, payload: JSON.stringify(reading) };
    }
    case 'stuck': {
      const frozen = s.frozen ?? Object.fromEntries(Object.entries(reading).filter(([k]) => MEASURED.includes(k)));
      return { state: { ...s, frozen }, payload: JSON.stringify({ ...reading, ...frozen }) };
    }
    case 'clock_skew':
      return { state: s, payload: JSON.stringify({ ...reading, ts: reading.ts! + s.skewMs }) };
    case 'malformed': {
      const roll = rng();
      const json = JSON.stringify(reading);
      if (roll < 0.15) return { state: s, payload: json.slice(0, Math.max(1, Math.floor(json.length / 2))) };
      if (roll < 0.3) return { state: s, payload: JSON.stringify({ ...reading, [firstMeasured(reading)]: 'n/a' }) };
      if (roll < 0.45) return { state: s, payload: JSON.stringify({ ...reading, [firstMeasured(reading)]: 900 }) };
      return { state: s, payload: json };
    }
  }
}

const firstMeasured = (reading: Record<string, number>): string => Object.keys(reading).find((k) => MEASURED.includes(k)) ?? 'moisture';
