import { describe, expect, it } from 'vitest';
import { backoffMs, isGroupDue, matchesSilence, quietUntil, routeAccepts, silencedBy, type Silence } from '../../../notify/policy.ts';
import type { Severity } from '../../../contracts/alert.ts';

// 2026-11-26 00:00 in UTC+8 is 2026-11-25T16:00Z.
const localMidnight = Date.parse('2026-11-25T16:00:00Z');
const at = (hhmm: string, dayOffset = 0): number =>
  localMidnight + dayOffset * 86_400_000 + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * 60_000;

describe('routing by severity', () => {
  it.each<[Severity, Severity, boolean]>([
    ['info', 'info', true], ['info', 'critical', true],
    ['warning', 'info', false], ['warning', 'warning', true], ['warning', 'critical', true],
    ['critical', 'warning', false], ['critical', 'critical', true],
  ])('a route with minSeverity %s takes a %s alert: %s', (min, severity, expected) => {
    expect(routeAccepts({ channel: { type: 'wecom', key: 'k' }, minSeverity: min }, severity)).toBe(expected);
  });
});

describe('quiet hours (local UTC+8)', () => {
  const overnight = { start: '22:00', end: '07:00' };
  it.each<[string, number, Severity, number | undefined]>([
    ['21:59', 0, 'warning', undefined],
    ['22:00', 0, 'warning', at('07:00', 1)],
    ['23:30', 0, 'info', at('07:00', 1)],
    ['03:00', 0, 'warning', at('07:00', 0)],
    ['06:59', 0, 'warning', at('07:00', 0)],
    ['07:00', 0, 'warning', undefined],
    ['03:00', 0, 'critical', undefined],
  ])('at %s (+%i d) a %s notification waits until %s', (hhmm, day, severity, expected) => {
    expect(quietUntil(at(hhmm, day), severity, overnight, 480)).toBe(expected);
  });

  it('handles a same-day window and no window', () => {
    expect(quietUntil(at('12:30'), 'warning', { start: '12:00', end: '14:00' }, 480)).toBe(at('14:00'));
    expect(quietUntil(at('14:00'), 'warning', { start: '12:00', end: '14:00' }, 480)).toBeUndefined();
    expect(quietUntil(at('12:30'), 'warning', { start: '12:00', end: '12:00' }, 480)).toBeUndefined();
    expect(quietUntil(at('12:30'), 'warning', undefined, 480)).toBeUndefined();
  });
});

describe('silences', () => {
  const base: Silence = { id: 1, communityId: null, subject: null, kind: null, startsAt: 1_000, endsAt: 2_000 };
  const alert = { communityId: 'c-001', subject: 'pav-001', kind: 'facility_tilt' as const };
  it.each<[string, Partial<Silence>, number, boolean]>([
    ['community matches inside the window', { communityId: 'c-001' }, 1_500, true],
    ['before the window', { communityId: 'c-001' }, 999, false],
    ['at the end (exclusive)', { communityId: 'c-001' }, 2_000, false],
    ['other community', { communityId: 'c-002' }, 1_500, false],
    ['subject and kind match', { subject: 'pav-001', kind: 'facility_tilt' }, 1_500, true],
    ['subject matches, kind does not', { subject: 'pav-001', kind: 'device_offline' }, 1_500, false],
  ])('%s', (_name, fields, now, expected) => {
    expect(matchesSilence({ ...base, ...fields }, alert, now)).toBe(expected);
  });

  it('picks the matching silence that ends last', () => {
    const list = [{ ...base, communityId: 'c-001' }, { ...base, id: 2, kind: 'facility_tilt', endsAt: 5_000 }, { ...base, id: 3, subject: 'other', endsAt: 9_000 }];
    expect(silencedBy(list, alert, 1_500)?.id).toBe(2);
    expect(silencedBy(list, alert, 500)).toBeUndefined();
  });
});

describe('retry backoff', () => {
  it.each([1, 2, 3, 4, 10, 30])('retry %i stays within [nominal/2, nominal] of the capped exponential', (attempt) => {
    const nominal = Math.min(60_000, 1_000 * 2 ** (attempt - 1));
    expect(backoffMs(attempt, 1_000, 60_000, () => 0)).toBe(nominal / 2);
    expect(backoffMs(attempt, 1_000, 60_000, () => 0.999999)).toBeCloseTo(nominal, -1);
  });
});

describe('grouping window', () => {
  it.each([[1_000, 30_999, false], [1_000, 31_000, true], [1_000, 1_000, false]])('oldest at %i, now %i: due %s', (oldest, now, due) => {
    expect(isGroupDue(oldest, now, 30_000)).toBe(due);
  });
});
