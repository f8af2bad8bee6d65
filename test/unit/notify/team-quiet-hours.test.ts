import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { Team, type QuietHours } from '../../../contracts/team.ts';
import { quietHoursOf } from '../../../notify/policy.ts';
import type { NotifyConfigInput } from '../../../notify/config.ts';
import { alertOf, createHarness, S, T0 } from './harness.ts';

const MIN = 60 * S;
const dbs: Array<{ db: Db; dir: string }> = [];
afterEach(() => {
  for (const { db, dir } of dbs.splice(0)) { db.close(); rmSync(dir, { recursive: true, force: true }); }
});

/** Two teams answering for c-001, each on its own webhook, over a real SQLite file. T0 is 10:00 local (UTC+8). */
function setup(night: QuietHours | null | undefined, duty: QuietHours | null | undefined, config: NotifyConfigInput = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gs-quiet-'));
  const db = openDb(join(dir, 'greenspace.db'));
  dbs.push({ db, dir });
  const team = (id: string, quietHours: QuietHours | null | undefined) => Team.parse({
    id, name: id, communities: ['c-001'], channels: [{ channel: { type: 'webhook', url: `http://127.0.0.1:9/${id}` }, minSeverity: 'info' }],
    ...(quietHours === undefined ? {} : { quietHours }),
  });
  const h = createHarness(config, { db, teams: [team('team-night', night), team('team-duty', duty)] });
  const sentAt = new Map<string, number>();
  const record = () => {
    for (const s of h.sent) if (s.channel.type === 'webhook' && !sentAt.has(s.delivery.teamId)) sentAt.set(s.delivery.teamId, h.clock.now());
  };
  return {
    h,
    /** Step the timers' way through `ms`, noting when each team's first message went. */
    async run(ms: number, step = MIN) { for (let t = 0; t < ms; t += step) { await h.advance(Math.min(step, ms - t)); record(); } },
    sentAt,
  };
}

describe('quiet hours per team', () => {
  it('a team in its own quiet hours gets a warning only when they end; a team without quiet hours gets it at once', async () => {
    const t = setup({ start: '09:00', end: '11:00' }, undefined);
    t.h.fire(alertOf(1));
    await t.run(1 * MIN, 10 * S);
    expect(t.sentAt.get('team-duty')).toBe(T0 + 30 * S); // the group window, nothing more
    await t.run(58 * MIN);
    expect(t.sentAt.has('team-night')).toBe(false);
    await t.run(2 * MIN);
    expect(t.sentAt.get('team-night')).toBe(T0 + 60 * MIN); // 11:00 local, the end of its quiet hours
    expect(t.h.sent.filter((s) => s.delivery.teamId === 'team-night').flatMap((s) => s.delivery.alerts.map((a) => [a.alert.id, a.reason]))).toEqual([[1, 'firing']]);
  });

  it('a team\'s own setting replaces the config\'s: null = never held, another window = only that one; no setting = the config\'s', async () => {
    const global = { quietHours: { start: '09:00', end: '11:00' } };
    const own = setup({ start: '22:00', end: '07:00' }, null, global);
    own.h.fire(alertOf(1));
    await own.run(1 * MIN, 10 * S);
    expect([...own.sentAt.keys()].sort()).toEqual(['team-duty', 'team-night']);

    const inherited = setup(undefined, null, global);
    inherited.h.fire(alertOf(1));
    await inherited.run(1 * MIN, 10 * S);
    expect([...inherited.sentAt.keys()]).toEqual(['team-duty']);
    await inherited.run(60 * MIN);
    expect(inherited.sentAt.get('team-night')).toBe(T0 + 60 * MIN);
  });

  it('a critical alert goes to a team in its quiet hours at once', async () => {
    const t = setup({ start: '09:00', end: '11:00' }, { start: '00:00', end: '23:59' });
    t.h.fire(alertOf(1, { severity: 'critical' }));
    await t.run(30 * S, 10 * S);
    expect([...t.sentAt.keys()].sort()).toEqual(['team-duty', 'team-night']);
  });

  it('reads a team\'s window at its own UTC offset when it gives one', async () => {
    // T0 is 02:00 UTC: inside 01:30–02:30 at UTC+0, outside it at the config's UTC+8 (10:00).
    const t = setup({ start: '01:30', end: '02:30', utcOffsetMinutes: 0 }, { start: '01:30', end: '02:30' });
    t.h.fire(alertOf(1));
    await t.run(31 * MIN);
    expect(t.sentAt.get('team-duty')).toBe(T0 + 1 * MIN);
    expect(t.sentAt.get('team-night')).toBe(T0 + 30 * MIN);
  });

  it.each([
    ['no team setting', undefined, { start: '22:00', end: '07:00' }, 480],
    ['null', null, undefined, 480],
    ['a window', { start: '12:00', end: '13:30' }, { start: '12:00', end: '13:30' }, 480],
    ['a window at UTC+0', { start: '12:00', end: '13:30', utcOffsetMinutes: 0 }, { start: '12:00', end: '13:30' }, 0],
  ] as const)('quietHoursOf: %s', (_name, own, quiet, offset) => {
    const team = own === undefined ? {} : { quietHours: own };
    expect(quietHoursOf(team, { quietHours: { start: '22:00', end: '07:00' }, utcOffsetMinutes: 480 })).toEqual({ quiet, utcOffsetMinutes: offset });
  });
});
