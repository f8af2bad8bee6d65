import { describe, expect, it } from 'vitest';
import { formatDuration, formatLocal, renderMessage, toHtml, toMarkdown, toText, truncateBytes } from '../../../notify/message.ts';
import { alertOf, S, T0 } from './harness.ts';

const options = { now: T0 + 35 * 60 * S, teamName: '养护一队', audience: 'team' as const, ackBaseUrl: 'https://ops.example.cn/alerts/', utcOffsetMinutes: 480 };

describe('message text', () => {
  it('says what, where, since when, how severe, with ids and an acknowledge link — Chinese first', () => {
    const m = renderMessage([{ alert: alertOf(12, { severity: 'critical', subject: 'pav-7' }), reason: 'firing', place: { district: '桃北区', community: '幸福小区', subject: '东门凉亭' } }], options);
    const text = toText(m);
    expect(m.title).toBe('【严重】设施倾斜 pav-7 · 幸福小区');
    expect(text).toContain('告警：#12 facility_tilt · 级别 严重 critical');
    expect(text).toContain('位置：桃北区(d-1) / 幸福小区(c-001) / 设施 东门凉亭(pav-7)');
    expect(text).toContain('内容：倾斜 12.0°，超过警告阈值 8°');
    expect(text).toContain('开始：2026-11-26 10:00 (UTC+8)，已持续 35 分钟');
    expect(text).toContain('https://ops.example.cn/alerts/12/ack');
    expect(toMarkdown(m)).toContain('[确认告警 #12 / Acknowledge](https://ops.example.cn/alerts/12/ack)');
    expect(toHtml(m)).toContain('<a href="https://ops.example.cn/alerts/12/ack">');
  });

  it('a resolution notice keeps the first impact the message states, and says how often it came back', () => {
    const alert = alertOf(7, { kind: 'facility_impact', message: '凉亭 pav-7 受撞击：倾角突变 6°，冲击 5 g / pavilion pav-7: impact (6° change, 5 g shock)', state: 'resolved', details: { deltaDeg: 6, shockG: 5, occurrences: 3, latest: { deltaDeg: 2.5, shockG: 3, at: T0, message: '凉亭 pav-7 受撞击：倾角突变 2.5°，冲击 3 g / pavilion pav-7: impact (2.5° change, 3 g shock)' } } });
    const text = toText(renderMessage([{ alert, reason: 'resolved', place: {} }], options));
    expect(text).toContain('内容：凉亭 pav-7 受撞击：倾角突变 6°，冲击 5 g / pavilion pav-7: impact (6° change, 5 g shock)');
    expect(text).toContain('共发生 3 次，最近一次：凉亭 pav-7 受撞击：倾角突变 2.5°，冲击 3 g / pavilion pav-7: impact (2.5° change, 3 g shock)');
  });

  it('carries the signed link of each alert for this message\'s recipient when given one', () => {
    const m = renderMessage([{ alert: alertOf(12), reason: 'firing', place: {} }], { ...options, ackLink: (id) => `https://gs.example.cn/ack/${id}?r=team-1&x=1&s=sig` });
    expect(toMarkdown(m)).toContain('(https://gs.example.cn/ack/12?r=team-1&x=1&s=sig)');
  });

  it('shows ids where names are unknown and summarises a storm', () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ alert: alertOf(i + 1, { kind: 'device_offline', subject: `soil-${i + 1}` }), reason: 'firing' as const, place: {} }));
    const m = renderMessage(entries, { ...options, maxEntries: 15 });
    expect(m.title).toBe('绿地监测告警 20 条（最高：警告）· 养护一队');
    expect(toText(m)).toContain('位置：d-1 / c-001 / 设备 soil-1');
    expect(toText(m)).toContain('……另有 5 条告警未列出');
    expect(toText(m)).not.toContain('#16 ');
  });

  it('escapes markdown and HTML in alert text', () => {
    const m = renderMessage([{ alert: alertOf(1, { message: '<b>*x*</b>' }), reason: 'firing', place: {} }], options);
    expect(toMarkdown(m)).toContain('＊x＊');
    expect(toMarkdown(m)).not.toContain('\\');
    expect(toHtml(m)).toContain('&#60;b&#62;');
  });

  it.each([[0, '0 分钟'], [59 * 60 * S, '59 分钟'], [125 * 60 * S, '2 小时 5 分钟'], [50 * 3600 * S, '2 天 2 小时']])('duration %i ms → %s', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });

  it('formats other offsets', () => {
    expect(formatLocal(T0, 0)).toBe('2026-11-26 02:00 (UTC+0)');
    expect(formatLocal(T0, 330)).toBe('2026-11-26 07:30 (UTC+5:30)');
  });

  it('truncates on a character boundary within the byte budget', () => {
    const s = '绿'.repeat(3_000);
    const cut = truncateBytes(s, 4_096);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(4_096);
    expect(cut).toMatch(/绿\n……（内容过长已截断）$/);
    expect(cut).not.toContain('\uFFFD');
    expect(truncateBytes('short', 4_096)).toBe('short');
  });
});
