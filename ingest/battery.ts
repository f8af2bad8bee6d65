/**
 * Battery volts → percent by a discharge curve: a piecewise-linear table of (V, %) points,
 * voltages ascending, clamped past both ends. Each profile gives its cells' curve (a
 * Li-SOCl2 bobbin cell sits near 3.6 V for most of its life and falls off a cliff; an
 * alkaline pair slopes the whole way), because one linear range for all invents numbers:
 * 2.885 V on a 2.5–3.6 V cell is a working sensor, not an empty one.
 */
export type BatteryCurve = ReadonlyArray<readonly [number, number]>;

export function percentFromCurve(volts: number, curve: BatteryCurve): number {
  const first = curve[0]!;
  const last = curve[curve.length - 1]!;
  if (volts <= first[0]) return first[1];
  if (volts >= last[0]) return last[1];
  for (let i = 1; i < curve.length; i++) {
    const [v1, p1] = curve[i]!;
    if (volts <= v1) {
      const [v0, p0] = curve[i - 1]!;
      return Math.round((p0 + ((volts - v0) / (v1 - v0)) * (p1 - p0)) * 10) / 10;
    }
  }
  return last[1];
}

/**
 * The curve for a device without a profile (native firmware sending `batteryV`, or a
 * LoRaWAN device on the generic names): 3.6 V lithium thionyl chloride cells, linear
 * between 3.0 V and 3.6 V. Kept as it was so readings already stored stay comparable;
 * a device whose cells run lower gets a profile with its own curve.
 */
export const GENERIC_LITHIUM_CURVE: BatteryCurve = [[3.0, 0], [3.6, 100]];

export function batteryPercentFromVolts(volts: number): number {
  return percentFromCurve(volts, GENERIC_LITHIUM_CURVE);
}
