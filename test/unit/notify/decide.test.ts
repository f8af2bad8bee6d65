import { describe, expect, it } from 'vitest';
import type { AlertTransition, Severity } from '../../../contracts/alert.ts';
import { Team } from '../../../contracts/team.ts';
import { NotifyConfig } from '../../../notify/config.ts';
import { decideNotification, type NotifyAction, type NotifyEvent, type NotifyState } from '../../../notify/decide.ts';
import type { Tracked } from '../../../notify/tracker.ts';
import { alertOf, S, T0, TEAMS } from './harness.ts';

const H = 3_600 * S;
const config = NotifyConfig.parse({ reminderIntervalS: { warning: 4 * 3_600, critical: 1_800 }, escalateAfterS: { warning: 8 * 3_600, critical: 3_600 } });
/** team-b keeps quiet 09:00–12:00 (UTC+8): at T0 (10:00 there) a warning for it waits until 12:00, T0 + 2 h. */
const teams = [TEAMS[0]!, Team.parse({ ...TEAMS[1]!, quietHours: { start: '09:00', end: '12:00' } })];
const NOW = T0 + 10 * S;

const tracked = (over: Partial<Tracked> = {}): Tracked => ({
  alert: alertOf(1), state: 'firing', teamIds: ['team-a', 'team-b'], announcedAt: null,
  nextReminderAt: T0 + 4 * H, escalateAt: T0 + 8 * H, escalatedAt: null, reminders: 0, lastSeq: null, ...over,
});
const transition = (to: AlertTransition['to'], severity: Severity = 'warning', from: AlertTransition['from'] = 'firing'): NotifyEvent =>
  ({ kind: 'transition', transition: { alert: alertOf(1, { severity }), from, to, at: T0 } });
const decide = (state: Partial<NotifyState>, event: NotifyEvent, withTeams = teams): NotifyAction[] =>
  decideNotification({ tracked: undefined, unsentResolutions: 0, ...state }, event, NOW, { teams: withTeams, config });
const queued = (actions: NotifyAction[]) => actions.flatMap((a) => (a.type === 'queue' ? [[a.teamId, a.audience, a.reason, a.holdUntil - NOW]] : []));
const tracks = (actions: NotifyAction[]) => actions.flatMap((a) => (a.type === 'track' ? [a.tracked] : []));

describe('decideNotification: a new alert', () => {
  it.each<[Severity, number]>([['warning', T0 + 2 * H - NOW], ['critical', 0]])('a %s one is tracked and queued for every team, held by each team\'s quiet hours (held %i ms)', (severity, held) => {
    const actions = decide({}, transition('firing', severity));
    expect(queued(actions)).toEqual([['team-a', 'team', 'firing', 0], ['team-b', 'team', 'firing', held]]);
    const r = config.reminderIntervalS[severity] * S;
    const e = config.escalateAfterS[severity] * S;
    expect(tracks(actions)).toEqual([{ ...tracked({ alert: alertOf(1, { severity }) }), nextReminderAt: T0 + r, escalateAt: T0 + e }]);
  });

  it('that no team answers for is tracked, said to be unrouted, and queued for nobody', () => {
    const actions = decide({}, transition('firing'), []);
    expect(actions.map((a) => a.type)).toEqual(['unrouted', 'track']);
    expect(tracks(actions)[0]!.teamIds).toEqual([]);
  });
});

describe('decideNotification: an alert already firing', () => {
  it.each<[Severity, string[][]]>([['warning', []], ['critical', [['team-a', 'team', 'firing', '0'], ['team-b', 'team', 'firing', '0']]]])(
    'fired again at %s: only a worse severity is news',
    (severity, expected) => {
      const actions = decide({ tracked: tracked() }, transition('firing', severity));
      expect(queued(actions).map((q) => q.map(String))).toEqual(expected);
      expect(tracks(actions)).toEqual([tracked({ alert: alertOf(1, { severity }) })]);
    },
  );

  it('a reminder falls due: the team (and the supervisor, once escalated) hears again, the next one is scheduled, the alert service is told', () => {
    const due = tracked({ escalatedAt: T0 + 8 * H, reminders: 2 });
    const actions = decide({}, { kind: 'reminder-due', tracked: due });
    expect(queued(actions)).toEqual([['team-a', 'team', 'reminder', 0], ['team-b', 'team', 'reminder', 2 * H - 10 * S], ['team-a', 'supervisor', 'reminder', 0], ['team-b', 'supervisor', 'reminder', 2 * H - 10 * S]]);
    expect(tracks(actions)).toEqual([{ ...due, reminders: 3, nextReminderAt: NOW + 4 * H }]);
    expect(actions.at(-1)).toEqual({ type: 'notified', transition: { alert: due.alert, from: 'firing', to: 'reminder', at: NOW } });
  });

  it('an escalation falls due: supervisors hear it once, and the alert service is told', () => {
    const actions = decide({}, { kind: 'escalation-due', tracked: tracked() });
    expect(queued(actions)).toEqual([['team-a', 'supervisor', 'escalation', 0], ['team-b', 'supervisor', 'escalation', 2 * H - 10 * S]]);
    expect(tracks(actions)).toEqual([tracked({ escalatedAt: NOW })]);
    expect(actions.at(-1)).toMatchObject({ type: 'notified', transition: { to: 'escalated' } });
  });

  it('an escalation from outside escalates once: not again when already escalated', () => {
    expect(queued(decide({ tracked: tracked() }, transition('escalated')))).toHaveLength(2);
    expect(decide({ tracked: tracked({ escalatedAt: T0 }) }, transition('escalated'))).toEqual([]);
  });
});

describe('decideNotification: settling', () => {
  it('acknowledged: nothing more is said, reminders and escalations waiting are dropped', () => {
    const actions = decide({ tracked: tracked({ announcedAt: T0 }) }, transition('acknowledged'));
    expect(actions).toEqual([
      { type: 'track', tracked: tracked({ announcedAt: T0, alert: alertOf(1), state: 'acknowledged', nextReminderAt: null, escalateAt: null }) },
      { type: 'drop-pending', alertId: 1, reasons: ['firing', 'reminder', 'escalation'] },
    ]);
  });

  it.each<[string, Partial<Tracked>, string[][]]>([
    ['never announced: nobody hears it was resolved', { announcedAt: null }, []],
    ['announced: the team hears', { announcedAt: T0 }, [['team-a', 'team'], ['team-b', 'team']]],
    ['announced and escalated: the supervisors too', { announcedAt: T0, escalatedAt: T0 }, [['team-a', 'team'], ['team-b', 'team'], ['team-a', 'supervisor'], ['team-b', 'supervisor']]],
  ])('resolved, %s', (_, over, expected) => {
    const actions = decide({ tracked: tracked(over) }, transition('resolved'));
    expect(queued(actions).map(([team, audience]) => [team, audience])).toEqual(expected);
    expect(queued(actions).every((q) => q[2] === 'resolved')).toBe(true);
  });

  it('reopened straight into acknowledged: the resolution it replaces is dropped too', () => {
    const actions = decide({ tracked: tracked({ state: 'resolved', announcedAt: T0 }) }, transition('acknowledged', 'warning', 'resolved'));
    expect(actions.filter((a) => a.type === 'drop-pending')).toEqual([
      { type: 'drop-pending', alertId: 1, reasons: ['firing', 'reminder', 'escalation'] },
      { type: 'drop-pending', alertId: 1, reasons: ['resolved'] },
    ]);
    expect(queued(actions)).toEqual([]);
  });

  it('severity raised once in hand: the record follows, nobody is re-paged', () => {
    const inHand = tracked({ state: 'acknowledged' });
    expect(decide({ tracked: inHand }, transition('severity_raised', 'critical'))).toEqual([{ type: 'track', tracked: { ...inHand, alert: alertOf(1, { severity: 'critical' }) } }]);
  });
});

describe('decideNotification: a resolved alert firing again (reopened)', () => {
  it.each<[number, string[][]]>([
    [1, []], // its resolution never went out: it was never news, say nothing
    [0, [['team-a', 'firing'], ['team-b', 'firing']]], // the team heard it was resolved: it is back
  ])('with %i resolution notices unsent', (unsentResolutions, expected) => {
    const actions = decide({ tracked: tracked({ state: 'resolved', announcedAt: T0 }), unsentResolutions }, transition('firing'));
    expect(actions[0]).toEqual({ type: 'drop-pending', alertId: 1, reasons: ['resolved'] });
    expect(queued(actions).map(([team, , reason]) => [team, reason])).toEqual(expected);
    expect(tracks(actions)[0]).toMatchObject({ state: 'firing', nextReminderAt: T0 + 4 * H, escalateAt: T0 + 8 * H });
  });
});

describe('decideNotification: transitions heard out of order (two nodes)', () => {
  it.each<[Tracked['state']]>([['acknowledged'], ['resolved']])('the alert\'s creation heard after it was %s changes nothing', (state) => {
    const creation: NotifyEvent = { kind: 'transition', transition: { alert: alertOf(1), from: undefined, to: 'firing', at: T0 } };
    expect(decide({ tracked: tracked({ state, nextReminderAt: null, escalateAt: null }) }, creation)).toEqual([]);
  });
});

describe('decideNotification: the transition seq (alert_transitions.id) orders one alert\'s transitions', () => {
  const withSeq = (event: NotifyEvent, seq: number): NotifyEvent => (event.kind === 'transition' ? { ...event, transition: { ...event.transition, seq } } : event);

  it.each<[AlertTransition['to'], number]>([['resolved', 7], ['resolved', 6], ['acknowledged', 5], ['firing', 7]])('%s at seq %i, at or below the last recorded (7), is passed over', (to, seq) => {
    const event = withSeq(transition(to), seq);
    expect(decide({ tracked: tracked({ lastSeq: 7 }) }, event)).toEqual([{ type: 'stale', transition: (event as { transition: AlertTransition }).transition, lastSeq: 7 }]);
  });

  it('a later one is decided as without a seq, and its seq recorded', () => {
    const prev = tracked({ lastSeq: 7, announcedAt: T0 });
    const plain = decide({ tracked: prev }, transition('resolved'));
    const numbered = decide({ tracked: prev }, withSeq(transition('resolved'), 8));
    expect(numbered).toEqual(plain.map((a) => (a.type === 'track' ? { ...a, tracked: { ...a.tracked, lastSeq: 8 } } : a)));
    expect(tracks(numbered)[0]).toMatchObject({ state: 'resolved', lastSeq: 8 });
  });

  it('the first with a seq (a new alert, or one tracked before seqs) is decided and recorded', () => {
    const creation = (seq: number): NotifyEvent => ({ kind: 'transition', transition: { alert: alertOf(1), from: undefined, to: 'firing', at: T0, seq } });
    expect(tracks(decide({}, creation(1)))[0]).toMatchObject({ state: 'firing', lastSeq: 1 });
    // The creation heard after an acknowledgement tracked with no seq: nothing changes but the seq.
    const inHand = tracked({ state: 'acknowledged', nextReminderAt: null, escalateAt: null });
    expect(decide({ tracked: inHand }, creation(3))).toEqual([{ type: 'track', tracked: { ...inHand, lastSeq: 3 } }]);
  });

  it('transitions with no seq (restated, reminder, escalated) are decided as before and keep the seq recorded', () => {
    const prev = tracked({ lastSeq: 7 });
    expect(tracks(decide({ tracked: prev }, transition('restated')))).toEqual([prev]);
    expect(tracks(decide({ tracked: prev }, transition('escalated')))[0]).toMatchObject({ lastSeq: 7, escalatedAt: NOW });
    expect(tracks(decide({}, { kind: 'reminder-due', tracked: prev }))[0]).toMatchObject({ lastSeq: 7, reminders: 1 });
  });
});
