import { describe, expect, it } from 'vitest';
import { loadNotifyConfig } from '../../../alerts/notify/config.ts';
import { ConfigError } from '../../../config/config.ts';

const reading = (text: string) => () => text;

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

  it.each([
    ['groupWindowS: -1', /groupWindowS: Too small/],
    ['quietHours: { start: "25:00", end: "07:00" }', /quietHours.start: expected HH:MM/],
    ['teams: [{ id: t, name: x, communities: [c], channels: [{ channel: { type: wecom } }] }]', /teams.0.channels.0.channel.key/],
    ['smtpp: {}', /Unrecognized key/],
    ['reopenWithinS: { device_ofline: 600 }', /^n\.yaml: reopenWithinS: unknown alert kind "device_ofline"; expected one of facility_tilt, .*, watering_needed$/m],
    ['reopenWithinS: { battery_low: -1 }', /^n\.yaml: reopenWithinS\.battery_low: Too small: expected number to be >=0$/m],
    ['reopenWithinS: { battery_low: 90.5 }', /^n\.yaml: reopenWithinS\.battery_low: Invalid input: expected int, received number$/m],
    ['reopenWithinS: { battery_low: 2592001 }', /^n\.yaml: reopenWithinS\.battery_low: Too big: expected number to be <=2592000$/m],
    ['reopenWithinS: { battery_low: "7d" }', /^n\.yaml: reopenWithinS\.battery_low: Invalid input: expected number, received string$/m],
  ])('refuses %s with a readable problem', (yaml, problem) => {
    let error: unknown;
    try { loadNotifyConfig({ GS_NOTIFY_CONFIG: 'n.yaml' }, reading(yaml)); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toMatch(problem);
  });

  it('names the file it cannot read', () => {
    expect(() => loadNotifyConfig({ GS_NOTIFY_CONFIG: '/nope.yaml' }, () => { throw new Error('ENOENT: no such file'); })).toThrow(/GS_NOTIFY_CONFIG=\/nope.yaml: cannot read/);
  });
});
