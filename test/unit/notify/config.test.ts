import { describe, expect, it } from 'vitest';
import { loadNotifyConfig } from '../../../notify/config.ts';
import { ConfigError } from '../../../config/config.ts';

const reading = (text: string) => () => text;
/** A valid team in flow YAML, left open for one more key. */
const TEAM = '{ id: t, name: x, communities: [c], channels: [{ channel: { type: wecom, key: k } }]';

describe('notification config', () => {
  it('defaults everything when GS_NOTIFY_CONFIG is unset', () => {
    const c = loadNotifyConfig({});
    expect(c).toMatchObject({ groupWindowS: 30, utcOffsetMinutes: 480, teams: [], delivery: { concurrency: 4, timeoutMs: 10_000 } });
    expect(c.reminderIntervalS).toEqual({ info: 0, warning: 14_400, critical: 1_800 });
  });

  it('reads YAML with teams and fills per-severity defaults', () => {
    const c = loadNotifyConfig({ GS_NOTIFY_CONFIG: 'n.yaml' }, reading(`
reminderIntervalS: { critical: 600 }
quietHours: { start: "22:00", end: "07:00" }
teams:
  - id: team-a
    name: 养护一队
    communities: [c-001]
    channels: [{ channel: { type: dingtalk, accessToken: abc, secret: SECx } }]
`));
    expect(c.reminderIntervalS).toEqual({ info: 0, warning: 14_400, critical: 600 });
    expect(c.teams[0]!.channels[0]!.minSeverity).toBe('warning');
  });

  it('reads reopen windows per alert kind: only the kinds given, the rest keep their defaults', () => {
    const c = loadNotifyConfig({ GS_NOTIFY_CONFIG: 'n.yaml' }, reading('reopenWithinS: { device_offline: 43200, watering_needed: 0 }'));
    expect(c.reopenWithinS).toEqual({ device_offline: 43_200, watering_needed: 0 });
    expect(loadNotifyConfig({}).reopenWithinS).toEqual({});
  });

  it('reads a team\'s own quiet hours, or none', () => {
    const c = loadNotifyConfig({ GS_NOTIFY_CONFIG: 'n.yaml' }, reading(`
quietHours: { start: "22:00", end: "07:00" }
teams:
  - ${TEAM}, quietHours: { start: "21:30", end: "06:30", utcOffsetMinutes: 420 } }
  - ${TEAM.replace('id: t', 'id: night-duty')}, quietHours: null }
  - ${TEAM.replace('id: t', 'id: plain')} }
`));
    expect(c.teams.map((t) => t.quietHours)).toEqual([{ start: '21:30', end: '06:30', utcOffsetMinutes: 420 }, null, undefined]);
  });

  it.each([
    ['groupWindowS: -1', /groupWindowS: Too small/],
    ['quietHours: { start: "25:00", end: "07:00" }', /quietHours.start: expected HH:MM/],
    ['teams: [{ id: t, name: x, communities: [c], channels: [{ channel: { type: wecom } }] }]', /teams.0.channels.0.channel.key/],
    ['smtpp: {}', /Unrecognized key/],
    ['reopenWithinS: { device_ofline: 600 }', /^n\.yaml: reopenWithinS: unknown alert kind "device_ofline"; expected one of facility_tilt, .*, watering_needed, resident_report, zone_infeasible, sensor_disagreement$/m],
    ['reopenWithinS: { battery_low: -1 }', /^n\.yaml: reopenWithinS\.battery_low: Too small: expected number to be >=0$/m],
    ['reopenWithinS: { battery_low: 90.5 }', /^n\.yaml: reopenWithinS\.battery_low: Invalid input: expected int, received number$/m],
    ['reopenWithinS: { battery_low: 2592001 }', /^n\.yaml: reopenWithinS\.battery_low: Too big: expected number to be <=2592000$/m],
    ['reopenWithinS: { battery_low: "7d" }', /^n\.yaml: reopenWithinS\.battery_low: Invalid input: expected number, received string$/m],
    [`teams: [${TEAM}, quietHours: { start: "22:00" } }]`, /^n\.yaml: teams\.0\.quietHours\.end: Invalid input: expected string, received undefined$/m],
    [`teams: [${TEAM}, quietHours: { start: "7:00", end: "08:00" } }]`, /^n\.yaml: teams\.0\.quietHours\.start: expected HH:MM \(24 h\)$/m],
    [`teams: [${TEAM}, quietHours: { start: "22:00", end: "07:00", utcOffsetMinutes: 900 } }]`, /^n\.yaml: teams\.0\.quietHours\.utcOffsetMinutes: Too big: expected number to be <=840$/m],
    [`teams: [${TEAM}, quietHours: { start: "22:00", end: "07:00", timezone: Asia/Shanghai } }]`, /^n\.yaml: teams\.0\.quietHours: Unrecognized key: "timezone"$/m],
    [`teams: [${TEAM}, quietHours: off }]`, /^n\.yaml: teams\.0\.quietHours: Invalid input: expected object, received string$/m],
  ])('refuses %s with a readable problem', (yaml, problem) => {
    let error: unknown;
    try { loadNotifyConfig({ GS_NOTIFY_CONFIG: 'n.yaml' }, reading(yaml)); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toMatch(problem);
  });

  it.each([
    ['nested a million levels deep', `teams: ${'['.repeat(1_000_000)}`, /^GS_NOTIFY_CONFIG=n.yaml: cannot read or parse the file \(n.yaml:1: nested more than 64 levels deep\)$/],
    ['over 1 MiB', `# ${'x'.repeat(1024 * 1024)}\n`, /^GS_NOTIFY_CONFIG=n.yaml: cannot read or parse the file \(n.yaml: 1048579 bytes, over the limit of 1048576\)$/],
    ['a billion laughs of aliases', `a: &a [x, x]\n${Array.from({ length: 120 }, (_, i) => `k${i}: *a`).join('\n')}\n`, /^GS_NOTIFY_CONFIG=n.yaml: cannot read or parse the file \(n.yaml.*alias/],
  ])('refuses a file %s before the parser takes the process with it (lib/bounded-yaml.ts)', (_name, yaml, problem) => {
    let error: unknown;
    try { loadNotifyConfig({ GS_NOTIFY_CONFIG: 'n.yaml' }, reading(yaml)); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toMatch(problem);
  });

  it('names the file it cannot read', () => {
    expect(() => loadNotifyConfig({ GS_NOTIFY_CONFIG: '/nope.yaml' }, () => { throw new Error('ENOENT: no such file'); })).toThrow(/GS_NOTIFY_CONFIG=\/nope.yaml: cannot read/);
  });
});
