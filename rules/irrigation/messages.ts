import { SOIL_WATER, type SoilType } from '../../contracts/zone.ts';
import { SOIL_ZH, type BandProblem } from '../../contracts/zone-feasibility.ts';
import { bilingual, durationEn, durationZh, named, round } from '../../lib/alert-text.ts';
import { STALE_COMMAND_ERROR } from '../../contracts/commands.ts';

/**
 * The words of the irrigation alerts (the alert's message, a work order's title, a line in
 * every notification): Chinese first, English after (lib/alert-text.ts). The zone's name
 * and id come with the decider's context, so every message names the zone as the pages do.
 */
interface ZoneLabel { name: string; id: string }

const ACTION_ZH: Record<string, string> = { open: '开阀', close: '关阀' };

const zoneZh = (z: ZoneLabel): string => `分区 ${named(z.name, z.id)}`;
const zoneEn = (z: ZoneLabel): string => `zone ${z.name === z.id ? z.id : `${z.name} (${z.id})`}`;

/** `分区 中心草坪(z-1) 需要浇水：湿度 18 %，低于下限 20 % / zone 中心草坪 (z-1) needs watering: moisture 18 % below 20 %`. */
export function wateringNeededMessage(z: ZoneLabel, moisture: number, low: number): string {
  const m = round(moisture, 1); // a median of probes read to 0.1 points: more digits would be noise
  return bilingual(`${zoneZh(z)} 需要浇水：湿度 ${m} %，低于下限 ${low} %`, `${zoneEn(z)} needs watering: moisture ${m} % below ${low} %`);
}

/**
 * The valve answered the command with a refusal (its own error text, if it gave one, kept as
 * sent). A stale refusal reaches here only for a command just re-issued with a fresh issuedAt:
 * the valve's clock is off (contracts/commands.ts isStaleCommand), which the crew can fix.
 */
export function valveRefusedMessage(z: ZoneLabel, valveId: string | undefined, action: string, error: string | undefined): string {
  const valve = valveId ?? '?';
  const stale = error === STALE_COMMAND_ERROR;
  return bilingual(
    `${zoneZh(z)} 阀门 ${valve} 拒绝执行${ACTION_ZH[action] ?? action}指令${error ? `（${error}）` : ''}${stale ? '：阀门判定指令已过期，请检查阀门时钟' : ''}`,
    `${zoneEn(z)}: valve ${valve} refused the ${action} command${error ? ` (${error})` : ''}${stale ? ': it judged the command out of date; check the valve\'s clock' : ''}`,
  );
}

/** No acknowledgement after every retry. */
export const valveNoAckMessage = (z: ZoneLabel, valveId: string | undefined, action: string, attempts: number): string =>
  bilingual(
    `${zoneZh(z)} 阀门 ${valveId ?? '?'} 发送 ${attempts} 次${ACTION_ZH[action] ?? action}指令均无应答`,
    `${zoneEn(z)}: valve ${valveId ?? '?'} did not acknowledge ${action} after ${attempts} attempts`,
  );

/** Watering went on for `wateredMs` and neither moisture nor flow rose. */
export const valveNoEffectMessage = (z: ZoneLabel, wateredMs: number): string =>
  bilingual(
    `${zoneZh(z)} 已浇水 ${durationZh(wateredMs)}，湿度未上升：请检查阀门、管路与喷头`,
    `${zoneEn(z)}: moisture did not rise after ${durationEn(wateredMs)} of watering; check the valve, pipe and emitters`,
  );

/** Why one of two disagreeing sensors is left out (sensor-check.ts judges, this says it). */
export type DisagreementCause =
  | { code: 'above_saturation' | 'below_wilting'; sensor: string }
  | { code: 'above_field_capacity'; sensor: string; drainH: number }
  | { code: 'drier_trusted'; trusted: string };

/** The cause in words: `en` is also the alert's details.why. */
export function disagreementWhy(cause: DisagreementCause, soil: SoilType): { zh: string; en: string } {
  const w = SOIL_WATER[soil], s = SOIL_ZH[soil];
  switch (cause.code) {
    case 'above_saturation':
      return { zh: `${cause.sensor} 读数高于${s}的饱和含水量 ${w.saturation} %，土壤不可能含这么多水`, en: `${cause.sensor} reads above ${soil}'s saturation ${w.saturation} %, which the soil cannot hold` };
    case 'above_field_capacity':
      return {
        zh: `${cause.sensor} 在 ${cause.drainH} 小时未浇水未降雨后仍高于${s}的田间持水量 ${w.fieldCapacity} %，土壤不可能保持`,
        en: `${cause.sensor} reads above ${soil}'s field capacity ${w.fieldCapacity} % with no water for ${cause.drainH} h, which the soil cannot hold`,
      };
    case 'below_wilting':
      return { zh: `${cause.sensor} 读数低于${s}凋萎点 ${w.wiltingPoint} % 的一半，土壤不可能这么干`, en: `${cause.sensor} reads below half ${soil}'s wilting point ${w.wiltingPoint} %, which the soil cannot hold` };
    case 'drier_trusted':
      return {
        zh: `两者读数都在${s}可能的范围内，采信较干的 ${cause.trusted}（分区不会缺水）`,
        en: `neither reads what ${soil} cannot hold, so the drier ${cause.trusted} is trusted (the zone is not starved)`,
      };
  }
}

export interface Disagreement {
  a: { id: string; moisture: number };
  b: { id: string; moisture: number };
  /** |a − b| now, and how much more than the pair's reference difference. */
  diff: number;
  beyondReference: number;
  forMs: number;
  why: { zh: string; en: string };
  distrusted: string;
}

export function disagreementMessage(z: ZoneLabel, d: Disagreement): string {
  const diff = round(d.diff, 1), more = round(d.beyondReference, 1);
  return bilingual(
    `${zoneZh(z)} 两个土壤探头读数不一致：${d.a.id} ${d.a.moisture} %，${d.b.id} ${d.b.moisture} %，相差 ${diff} 个百分点，比初次比对时多 ${more}，已持续 ${durationZh(d.forMs)}；`
      + `${d.why.zh}：${d.distrusted} 暂不计入分区湿度，直到两者重新一致；请检查或重新校准该探头`,
    `${zoneEn(z)}: soil sensors ${d.a.id} (${d.a.moisture} %) and ${d.b.id} (${d.b.moisture} %) differ by ${diff} points, `
      + `${more} more than when first compared, for ${durationEn(d.forMs)}; ${d.why.en}: ${d.distrusted} is left out of the zone's moisture until the two agree again; check or recalibrate it`,
  );
}

/** A band the soil cannot hold: contracts/zone-feasibility.ts's judgement, in its words (the import's and the API's too). */
export function bandInfeasibleMessage(z: ZoneLabel, problem: BandProblem): string {
  return bilingual(`${zoneZh(z)} 无法保持湿度区间：${problem.zh}`, `${zoneEn(z)}: ${problem.en}`);
}

/** Every run that gave all it was allowed left the zone below its low, `days` days running. */
export function shortRunsMessage(z: ZoneLabel, days: number, low: number, lastMoisture: number | undefined): string {
  const last = lastMoisture ?? '?';
  return bilingual(
    `${zoneZh(z)} 无法保持湿度区间：连续 ${days} 天，每次浇到允许的上限后湿度仍低于下限 ${low} %（最近一次浇后 ${last} %）：`
      + '阀门在浇水时段内给不够一天的水；请提高流量、放宽浇水时段或允许更长的单次浇水，或降低区间下限',
    `${zoneEn(z)}: ${days} days running, watering as long as allowed left the zone below its low ${low} % (${last} % after the last run): `
      + 'the valve cannot give this zone a day\'s water inside its windows; raise the flow, widen the windows or allow longer runs, or lower the band\'s low',
  );
}

/**
 * Why an irrigation alert cleared: the resolution note the alert keeps and a notification
 * quotes. The alert already names the zone, so the note says only what changed.
 */
export const irrigationCleared = {
  moistureRecovered: bilingual('湿度已恢复', 'moisture recovered'),
  valveAcknowledged: bilingual('阀门已应答指令', 'valve acknowledged a command'),
  wateringTookEffect: bilingual('浇水时湿度或流量已上升', 'moisture or flow rose during watering'),
  sensorsAgree: (a: string, b: string): string => bilingual(`${a} 与 ${b} 读数重新一致`, `${a} and ${b} agree again`),
  bandHoldable: bilingual('分区又能保持在湿度区间内', 'the zone can be held in its band again'),
} as const;
