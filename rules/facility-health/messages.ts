import { FACILITY_TYPE_LABELS } from '../../contracts/device.ts';
import { bilingual, round } from '../../lib/alert-text.ts';

/**
 * The words of the facility-health alerts (the alert's message, the work order's title, a
 * line in every notification). The rule knows the facility's id and type, not its name (the
 * inventory's name is not in the hot path's context): the type in words and the id say which.
 * The type's words are contracts/device.ts FACILITY_TYPE_LABELS, the pages' own.
 */
const TYPE_ZH: Record<string, string> = FACILITY_TYPE_LABELS.zh;
const TYPE_EN: Record<string, string> = FACILITY_TYPE_LABELS.en;

const labelZh = (type: string | undefined, id: string): string => `${(type && TYPE_ZH[type]) ?? '设施'} ${id}`;
/** A type the labels do not know (a newer inventory's) is still said, underscores as spaces. */
const labelEn = (type: string | undefined, id: string): string => `${type ? (TYPE_EN[type] ?? type.replaceAll('_', ' ')) : 'facility'} ${id}`;

const LEVEL_ZH = { warning: '警告', critical: '严重' } as const;

export interface FacilityLabel { facilityType: string | undefined; facilityId: string }

/** `凉亭 pav-7 受撞击：倾角突变 3.2°，冲击 1.8 g / pavilion pav-7: impact (3.2° change, 1.8 g shock)`. */
export function impactMessage(f: FacilityLabel, deltaDeg: number, shockG: number): string {
  const d = round(deltaDeg), s = round(shockG);
  return bilingual(
    `${labelZh(f.facilityType, f.facilityId)} 受撞击：倾角突变 ${d}°，冲击 ${s} g`,
    `${labelEn(f.facilityType, f.facilityId)}: impact (${d}° change, ${s} g shock)`,
  );
}

/** `凉亭 pav-7 偏离基准倾斜 2.5°（警告阈值 2°） / pavilion pav-7: tilted 2.5° from its baseline (warning at 2°)`. */
export function tiltMessage(f: FacilityLabel, deviationDeg: number, level: 'warning' | 'critical', thresholdDeg: number): string {
  const d = round(deviationDeg);
  return bilingual(
    `${labelZh(f.facilityType, f.facilityId)} 偏离基准倾斜 ${d}°（${LEVEL_ZH[level]}阈值 ${thresholdDeg}°）`,
    `${labelEn(f.facilityType, f.facilityId)}: tilted ${d}° from its baseline (${level} at ${thresholdDeg}°)`,
  );
}

/** `凉亭 pav-7 持续沉降：每天 0.3°，已 5 天（现偏离基准 1.6°） / pavilion pav-7: settling 0.3°/day over 5 days (now 1.6° from baseline)`. */
export function settlementMessage(f: FacilityLabel, degPerDay: number, days: number, deviationDeg: number): string {
  const p = round(degPerDay), n = round(days), d = round(deviationDeg);
  return bilingual(
    `${labelZh(f.facilityType, f.facilityId)} 持续沉降：每天 ${p}°，已 ${n} 天（现偏离基准 ${d}°）`,
    `${labelEn(f.facilityType, f.facilityId)}: settling ${p}°/day over ${n} days (now ${d}° from baseline)`,
  );
}

/** Why facility_tilt cleared (the resolution note): the deviation it came back to. */
export const tiltClearedNote = (deviationDeg: number): string => {
  const d = round(deviationDeg);
  return bilingual(`倾斜回到偏离基准 ${d}°`, `tilt back to ${d}° from its baseline`);
};
