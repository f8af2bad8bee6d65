/**
 * Battery volts → percent for the 3.6 V lithium thionyl chloride cells soil and tilt
 * sensors use (Dragino LSE01: ER26500; Milesight EM500: ER34615). Their discharge
 * curve is flat until the end, so a linear map between 3.0 V (cut-off) and 3.6 V
 * (fresh) is as good as the devices' own estimates.
 */
export function batteryPercentFromVolts(volts: number): number {
  const pct = ((volts - 3.0) / 0.6) * 100;
  return Math.round(Math.min(100, Math.max(0, pct)) * 10) / 10;
}
