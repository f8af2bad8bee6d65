import { z } from 'zod';
import type { Alert, AlertKind, Severity } from '../contracts/alert.ts';
import type { NotifyReason } from './policy.ts';

/**
 * A channel-neutral message: a title and lines, some bold, some with a link. Stored in
 * the outbox as JSON; each channel renders it (markdown, Feishu post, email text/HTML).
 * Chinese first — the readers are Chinese technicians — with ids and English kind names
 * kept so a message can be matched to the API and logs.
 */
export const MessageLine = z.object({ text: z.string(), bold: z.boolean().optional(), link: z.object({ label: z.string(), href: z.string() }).optional() });
export type MessageLine = z.infer<typeof MessageLine>;
export const Message = z.object({ title: z.string(), lines: z.array(MessageLine) });
export type Message = z.infer<typeof Message>;

/** Human names of the places an alert is about; any may be missing (ids are shown then). */
export interface PlaceNames { district?: string; community?: string; subject?: string }

export interface Entry { alert: Alert; reason: NotifyReason; place: PlaceNames }

export const SEVERITY_LABEL: Record<Severity, string> = { info: '提示', warning: '警告', critical: '严重' };
export const KIND_LABEL: Record<AlertKind, string> = {
  facility_tilt: '设施倾斜',
  facility_impact: '设施受撞击/突变',
  facility_settlement: '设施沉降',
  device_offline: '设备离线',
  gateway_offline: '网关离线',
  battery_low: '电量低',
  sensor_stuck: '传感器数值卡滞',
  sensor_out_of_range: '传感器读数越界',
  clock_skew: '设备时钟偏差',
  valve_no_ack: '阀门无应答',
  valve_no_effect: '浇水无效果',
  watering_needed: '需人工浇水',
  zone_infeasible: '分区无法保持湿度区间',
  sensor_disagreement: '分区传感器读数不一致',
  resident_report: '居民举报',
};
const REASON_LABEL: Record<NotifyReason, string> = { firing: '新告警', reminder: '提醒：仍未确认', escalation: '升级：超时未确认', resolved: '已恢复' };

const subjectLabel = (kind: AlertKind): string =>
  kind.startsWith('facility_') ? '设施' : kind === 'watering_needed' || kind === 'valve_no_effect' || kind === 'zone_infeasible' || kind === 'sensor_disagreement' ? '分区' : kind === 'gateway_offline' ? '网关' : kind === 'resident_report' ? '位置' : '设备';

const named = (name: string | undefined, id: string | null | undefined): string | undefined =>
  id ? (name && name !== id ? `${name}(${id})` : id) : name;

/** `2026-11-26 18:02` in the configured local offset, plus the offset so nobody guesses. */
export function formatLocal(ms: number, utcOffsetMinutes: number): string {
  const iso = new Date(ms + utcOffsetMinutes * 60_000).toISOString();
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const h = Math.floor(Math.abs(utcOffsetMinutes) / 60);
  const m = Math.abs(utcOffsetMinutes) % 60;
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} (UTC${sign}${h}${m ? `:${String(m).padStart(2, '0')}` : ''})`;
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} 分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} 小时 ${minutes % 60} 分钟`;
  return `${Math.floor(hours / 24)} 天 ${hours % 24} 小时`;
}

export const ackUrl = (ackBaseUrl: string, alertId: number): string => `${ackBaseUrl.replace(/\/+$/, '')}/${alertId}/ack`;

export interface RenderOptions {
  now: number;
  teamName: string;
  audience: 'team' | 'supervisor';
  ackBaseUrl: string;
  /** The alert's acknowledge link for this message's recipient (signed); `{ackBaseUrl}/{id}/ack` when absent. */
  ackLink?: (alertId: number) => string;
  utcOffsetMinutes: number;
  /** More entries than this are summarised in one line (a storm must still fit a robot message). */
  maxEntries?: number;
}

/** One message for a group of entries (one team, one audience). */
export function renderMessage(entries: readonly Entry[], o: RenderOptions): Message {
  const max = o.maxEntries ?? 15;
  const worst = entries.reduce<Severity>((w, e) => (e.alert.severity === 'critical' || (e.alert.severity === 'warning' && w === 'info') ? e.alert.severity : w), 'info');
  const first = entries[0];
  const prefix = o.audience === 'supervisor' ? '【升级】' : '';
  const title = entries.length === 1 && first
    ? `${prefix}【${SEVERITY_LABEL[first.alert.severity]}】${KIND_LABEL[first.alert.kind]} ${first.alert.subject}${first.reason === 'resolved' ? '（已恢复）' : ''} · ${first.place.community ?? first.alert.communityId ?? '未知小区'}`
    : `${prefix}绿地监测告警 ${entries.length} 条（最高：${SEVERITY_LABEL[worst]}）· ${o.teamName}`;
  const lines: MessageLine[] = [{ text: title, bold: true }];
  if (o.audience === 'supervisor') lines.push({ text: `以下告警超过时限仍未确认，请督促处理（团队：${o.teamName}）` });
  entries.slice(0, max).forEach((e, i) => lines.push(...entryLines(e, i, entries.length, o)));
  if (entries.length > max) lines.push({ text: `……另有 ${entries.length - max} 条告警未列出，请在系统中查看。` });
  return { title, lines };
}

function entryLines({ alert, reason, place }: Entry, index: number, count: number, o: RenderOptions): MessageLine[] {
  const where = [named(place.district, alert.districtId), named(place.community, alert.communityId), `${subjectLabel(alert.kind)} ${named(place.subject, alert.subject)}`]
    .filter(Boolean).join(' / ');
  const out: MessageLine[] = [
    { text: `${count > 1 ? `${index + 1}. ` : ''}【${SEVERITY_LABEL[alert.severity]}】${KIND_LABEL[alert.kind]} · ${REASON_LABEL[reason]}`, bold: true },
    { text: `告警：#${alert.id} ${alert.kind} · 级别 ${SEVERITY_LABEL[alert.severity]} ${alert.severity}` },
    { text: `位置：${where}` },
    { text: `内容：${alert.message}` },
    { text: `开始：${formatLocal(alert.firstFiredAt, o.utcOffsetMinutes)}，已持续 ${formatDuration(o.now - alert.firstFiredAt)}` },
  ];
  const repeats = Number(alert.details?.occurrences ?? 1);
  const latest = alert.details?.latest as { message?: unknown } | undefined;
  // The message states the first occurrence (alerts/occurrences.ts); say that it came back and how.
  if (repeats > 1) out.push({ text: `共发生 ${repeats} 次${typeof latest?.message === 'string' ? `，最近一次：${latest.message}` : ''}` });
  if (reason === 'resolved') out.push({ text: `恢复：${formatLocal(alert.lastChangedAt, o.utcOffsetMinutes)}` });
  else if (alert.state === 'acknowledged') out.push({ text: `已确认：${alert.acknowledgedBy ?? ''}` });
  else out.push({ text: '处理：', link: { label: `确认告警 #${alert.id} / Acknowledge`, href: o.ackLink?.(alert.id) ?? ackUrl(o.ackBaseUrl, alert.id) } });
  return out;
}

/**
 * The robots' markdown subsets do not all honour backslash escapes (a literal "\_" can
 * show up in the chat), so characters that would start formatting are swapped for their
 * full-width forms instead; underscores inside words (alert kinds) are left alone.
 */
const MD_SWAP: Record<string, string> = { '*': '＊', '`': '＇', '[': '［', ']': '］', '#': '＃' };
const escapeMd = (s: string): string => s.replace(/[*`[\]]|^#|(?<=\s)_|_(?=\s|$)/g, (c) => MD_SWAP[c] ?? '＿');

/** Markdown for the robots (WeCom, DingTalk); one field per line. */
export function toMarkdown(m: Message, lineBreak = '\n'): string {
  return m.lines.map((l, i) => {
    const text = i === 0 ? `### ${escapeMd(l.text)}` : l.bold ? `**${escapeMd(l.text)}**` : escapeMd(l.text);
    return l.link ? `${text}[${escapeMd(l.link.label)}](${l.link.href})` : text;
  }).join(lineBreak);
}

export const toText = (m: Message): string => m.lines.map((l) => (l.link ? `${l.text}${l.link.label}: ${l.link.href}` : l.text)).join('\n');

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const toHtml = (m: Message): string =>
  m.lines.map((l) => {
    const body = l.bold ? `<strong>${escapeHtml(l.text)}</strong>` : escapeHtml(l.text);
    return `<p>${body}${l.link ? `<a href="${escapeHtml(l.link.href)}">${escapeHtml(l.link.label)}</a>` : ''}</p>`;
  }).join('\n');

/** Cut a string to at most `maxBytes` of UTF-8 without splitting a character, marking the cut. */
export function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  const marker = '\n……（内容过长已截断）';
  // Decoding a byte prefix leaves at most one broken character at the end: drop it.
  const cut = Buffer.from(s).subarray(0, maxBytes - Buffer.byteLength(marker)).toString('utf8').replace(/\uFFFD$/, '');
  return cut + marker;
}
