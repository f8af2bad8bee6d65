import { bilingual, durationEn, durationZh, round } from '../../lib/alert-text.ts';

/**
 * The words of the device-health alerts (the alert's message, the work order's title, a line
 * in every notification). The rules know a device's id and kind, not its place's name (no
 * registry lookup on the hot path): the kind in words and the id say which device.
 */
const KIND_ZH: Record<string, string> = { soil: '土壤传感器', tilt: '倾角传感器', valve: '阀门控制器', rain: '雨量计', gateway: '网关' };
const FIELD_ZH: Record<string, string> = {
  moisture: '湿度', temperature: '温度', ec: '电导率', battery: '电量', batteryV: '电池电压', rssi: '信号强度', snr: '信噪比',
  pitch: '俯仰角', roll: '横滚角', shock: '冲击', state: '阀门状态', flow: '流量', volume: '水量', rainfall: '降雨量',
};
/** Units as contracts/reading.ts ReadingFields gives them. */
const UNIT: Record<string, string> = {
  moisture: ' %', temperature: ' °C', ec: ' mS/cm', battery: ' %', batteryV: ' V', rssi: ' dBm', snr: ' dB', pitch: '°', roll: '°', shock: ' g', flow: ' L/min', volume: ' L', rainfall: ' mm',
};

const deviceZh = (kind: string, id: string): string => `${KIND_ZH[kind] ?? '设备'} ${id}`;
const deviceEn = (id: string): string => `device ${id}`;
const withUnit = (field: string, value: number | string): string => `${value}${UNIT[field] ?? ''}`;

/** What a per-reading device alert says; the device is named by `deviceMessage`. */
export interface DeviceText { zh: string; en: string }

/** `土壤传感器 s-1 电量低：15 % / device s-1: battery at 15 %`: the device named before what was found. */
export const deviceMessage = (kind: string, id: string, text: DeviceText): string => bilingual(`${deviceZh(kind, id)} ${text.zh}`, `${deviceEn(id)}: ${text.en}`);

export const batteryText = (pct: number): DeviceText => ({ zh: `电量低：${pct} %`, en: `battery at ${pct} %` });

/** A frozen value: `fields` the watched fields, `values` theirs in the same order. */
export function stuckText(fields: readonly string[], values: readonly (number | string)[], readings: number, spanMs: number): DeviceText {
  const zhValues = fields.map((f, i) => `${FIELD_ZH[f] ?? f} ${withUnit(f, values[i] ?? '')}`).join('，');
  const enValues = values.map((v, i) => withUnit(fields[i] ?? '', v)).join('/');
  return {
    zh: `读数卡滞：${zhValues}，连续 ${readings} 次不变（${durationZh(spanMs)}）`,
    en: `${fields.join('/')} stuck at ${enValues} for ${readings} readings (${durationEn(spanMs)})`,
  };
}

/** Values a working probe does not read, `readings` of them over `spanMs`. */
export function implausibleText(bad: ReadonlyArray<{ field: string; value: number }>, readings: number, spanMs: number): DeviceText {
  return {
    zh: `读数不合理：${bad.map((b) => `${FIELD_ZH[b.field] ?? b.field} ${withUnit(b.field, b.value)}`).join('，')}（${durationZh(spanMs)}内 ${readings} 次）`,
    en: `implausible ${bad.map((b) => `${b.field} ${withUnit(b.field, b.value)}`).join(', ')} (${readings} implausible readings in ${durationEn(spanMs)})`,
  };
}

/** The device's clock against the server's: positive `skewMs` is ahead. */
export function skewText(skewMs: number): DeviceText {
  const off = Math.abs(skewMs);
  return skewMs >= 0
    ? { zh: `时钟快了 ${durationZh(off)}`, en: `clock ${durationEn(off)} ahead` }
    : { zh: `时钟慢了 ${durationZh(off)}`, en: `clock ${durationEn(off)} behind` };
}

/** `网关 gw-1 已离线 4 分钟，其后 2 台设备无数据 / gateway gw-1 offline for 4 min; 2 devices behind it silent`. */
export function gatewayOfflineMessage(id: string, silentMs: number, devices: number): string {
  return bilingual(
    `网关 ${id} 已离线 ${durationZh(silentMs)}，其后 ${devices} 台设备无数据`,
    `gateway ${id} offline for ${durationEn(silentMs)}; ${devices} device${devices === 1 ? '' : 's'} behind it silent`,
  );
}

/** `土壤传感器 s-1 已 1 小时 21 分钟无数据（应每 10 分钟上报） / device s-1 silent for 1 h 21 min (expected every 10 min)`. */
export function deviceOfflineMessage(kind: string, id: string, silentMs: number, reportIntervalS: number): string {
  return bilingual(
    `${deviceZh(kind, id)} 已 ${durationZh(silentMs)}无数据（应每 ${durationZh(reportIntervalS * 1000)}上报）`,
    `${deviceEn(id)} silent for ${durationEn(silentMs)} (expected every ${durationEn(reportIntervalS * 1000)})`,
  );
}

/**
 * Why a device-health alert cleared: the resolution note the alert keeps and a notification
 * quotes. The alert already names the device, so the note says only what changed.
 */
export const deviceCleared = {
  deviceBack: bilingual('设备恢复上报', 'device reporting again'),
  gatewayBack: bilingual('网关恢复上报', 'gateway reporting again'),
  battery: (pct: number): string => bilingual(`电量恢复：${pct} %`, `battery at ${pct} %`),
  stuck: bilingual('读数恢复变化', 'value changed'),
  plausible: bilingual('读数恢复合理', 'values plausible again'),
  /** `skewMs` the device's clock against the server's as last read, either sign. */
  skew: (skewMs: number): string => bilingual(`时钟误差回到 ${durationZh(Math.abs(skewMs))}以内`, `clock within ${durationEn(Math.abs(skewMs))}`),
} as const;
