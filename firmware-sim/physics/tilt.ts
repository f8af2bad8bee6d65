/**
 * A facility's attitude: install angles, slow settlement (a footing sinking over weeks),
 * impacts (a sudden change with a shock), read through a noisy accelerometer.
 */
export interface TiltState {
  pitch: number;
  roll: number;
  /** Settlement drift, degrees per day. */
  driftPitchPerDay: number;
  driftRollPerDay: number;
  /** Peak shock (g) since the last report, reported once like an EM320-TILT "mutation" flag. */
  pendingShockG: number;
}

export interface Impact {
  pitchDeg: number;
  rollDeg: number;
  shockG: number;
}

export function advanceTilt(s: TiltState, dtS: number): TiltState {
  const days = dtS / 86_400;
  return { ...s, pitch: s.pitch + s.driftPitchPerDay * days, roll: s.roll + s.driftRollPerDay * days };
}

export function applyImpact(s: TiltState, impact: Impact): TiltState {
  return { ...s, pitch: s.pitch + impact.pitchDeg, roll: s.roll + impact.rollDeg, pendingShockG: Math.max(s.pendingShockG, impact.shockG) };
}

/** One reading: angles plus noise (σ in degrees); the shock is reported once, then cleared. */
export function readTilt(s: TiltState, noise: () => number, sigmaDeg = 0.05): { reading: { pitch: number; roll: number; shock?: number }; state: TiltState } {
  const reading: { pitch: number; roll: number; shock?: number } = { pitch: s.pitch + sigmaDeg * noise(), roll: s.roll + sigmaDeg * noise() };
  if (s.pendingShockG > 0) reading.shock = s.pendingShockG;
  return { reading, state: { ...s, pendingShockG: 0 } };
}
