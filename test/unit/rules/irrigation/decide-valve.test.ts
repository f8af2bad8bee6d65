import { describe, expect, it } from 'vitest';
import { createHarness, HOUR, MIN, MORNING, NOON } from './harness.ts';

describe('decideWatering: valve supervision', () => {
  it('retries an unacknowledged open with the same id, then raises valve_no_ack and stops the run', () => {
    const h = createHarness({ settings: { debounceS: 0, ackTimeoutS: 30, ackRetries: 2 } });
    h.soil(15);
    h.advance(2 * MIN, 10_000);
    const opens = h.commands().filter((c) => c.action === 'open');
    expect(opens).toHaveLength(3);
    expect(new Set(opens.map((c) => c.commandId)).size).toBe(1);
    expect(opens.map((c) => c.issuedAt - MORNING)).toEqual([0, 30_000, 60_000]);
    // and a last untracked close, in case only the acks were lost
    expect(h.commands().map((c) => c.action)).toEqual(['open', 'open', 'open', 'close']);
    expect(h.signals()).toEqual([expect.objectContaining({ action: 'raise', kind: 'valve_no_ack', subject: 'z1', severity: 'critical', communityId: 'c1', at: MORNING + 90_000 })]);
    expect(h.signals()[0]).toMatchObject({ message: '分区 lawn by block 3(z1) 阀门 v1 发送 3 次开阀指令均无应答 / zone lawn by block 3 (z1): valve v1 did not acknowledge open after 3 attempts' });
    // a failed run counts for the minimum interval, so a dead valve is not hammered every tick
    expect(h.summary()).toEqual(['start:below_low', 'stop:valve_no_ack', 'skip:min_interval']);
    expect(h.state.run).toBeUndefined();
    expect(h.state.raised).toEqual(['valve_no_ack']);
  });

  it('counts the cycles already watered against the budget when a later open goes unacknowledged', () => {
    const h = createHarness({ autoAck: true, zone: { soil: 'clay' }, settings: { debounceS: 0, cycleSoak: { clay: { runS: 600, soakS: 1200 } } } });
    h.soil(20);
    h.advanceReporting(29 * MIN, (t) => 21 + (t - MORNING) / (5 * MIN)); // one 10-min cycle, then soaking
    h.autoAck = false;
    h.advanceReporting(5 * MIN, 27);
    expect(h.summary().slice(0, 4)).toEqual(['start:below_low', 'soak:cycle_soak', 'resume:cycle_soak', 'stop:valve_no_ack']);
    expect(h.decisions()[3]).toMatchObject({ durationS: 600, volumeL: 200 });
    expect(h.state.usage).toEqual([{ at: h.decisions()[3]?.at, volumeL: 200 }]);
  });

  it('clears valve_no_ack when a later command is acknowledged', () => {
    const h = createHarness({ settings: { debounceS: 0, ackTimeoutS: 30, ackRetries: 0, minIntervalS: 600 } });
    h.soil(15);
    h.advance(MIN, 10_000);
    expect(h.signals().map((s) => `${s.action}:${s.kind}`)).toEqual(['raise:valve_no_ack']);
    h.autoAck = true;
    h.advanceReporting(15 * MIN, 15);
    expect(h.signals().map((s) => `${s.action}:${s.kind}`)).toEqual(['raise:valve_no_ack', 'clear:valve_no_ack']);
    expect(h.signals()[1]).toMatchObject({ reason: '阀门已应答指令 / valve acknowledged a command' });
    expect(h.state.run?.phase).toBe('watering');
  });

  it('ignores an ack for another command id', () => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.soil(15);
    h.send({ type: 'ack', ack: { commandId: 'someone-else', ok: true, state: 1 } });
    expect(h.state.run?.phase).toBe('opening');
  });

  it('treats a refusing valve as a fault', () => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.soil(15);
    const [open] = h.commands();
    h.send({ type: 'ack', ack: { commandId: open?.commandId ?? '', ok: false, state: 0, error: 'low pressure' } });
    expect(h.summary()).toContain('stop:valve_refused');
    expect(h.signals()[0]).toMatchObject({ kind: 'valve_no_ack', details: { error: 'low pressure' } });
    expect(h.signals()[0]).toMatchObject({ message: '分区 lawn by block 3(z1) 阀门 v1 拒绝执行开阀指令（low pressure） / zone lawn by block 3 (z1): valve v1 refused the open command (low pressure)' });
  });

  // A valve refuses a stale command (contracts/commands.ts isStaleCommand): a late copy of an old one is expected traffic.
  it('ignores a stale refusal of a command it no longer waits for: no alert, no state change', () => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.soil(15);
    const before = h.state;
    h.send({ type: 'ack', ack: { commandId: 'o-1-old-z1', ok: false, state: 0, error: 'stale' } });
    expect(h.state).toBe(before);
    expect(h.signals()).toEqual([]);
  });

  it('re-issues the pending command once under a new id with a fresh issuedAt when the valve refuses it as stale, then treats a refusal of that one as a fault', () => {
    const h = createHarness({ settings: { debounceS: 0, ackTimeoutS: 30, ackRetries: 2 } });
    h.soil(15);
    const [open] = h.commands();
    h.setNow(MORNING + 5_000);
    h.send({ type: 'ack', ack: { commandId: open?.commandId ?? '', ok: false, state: 0, error: 'stale' } });
    expect(h.commands()).toHaveLength(2);
    const again = h.commands()[1];
    expect(again).toEqual({ ...open, commandId: expect.any(String), issuedAt: MORNING + 5_000 });
    expect(again?.commandId).not.toBe(open?.commandId);
    expect(h.signals()).toEqual([]);
    expect(h.state.run).toMatchObject({ phase: 'opening', pending: { commandId: again?.commandId, sentAt: MORNING + 5_000, attempts: 1, staleResent: true } });
    // Its ack window starts again from the re-issue.
    h.advance(20_000, 10_000);
    expect(h.commands()).toHaveLength(2);
    h.send({ type: 'ack', ack: { commandId: again?.commandId ?? '', ok: false, state: 0, error: 'stale' } });
    expect(h.summary().slice(0, 2)).toEqual(['start:below_low', 'stop:valve_refused']);
    expect(h.signals()[0]).toMatchObject({ kind: 'valve_no_ack', details: { error: 'stale' } });
    expect(h.signals()[0]).toMatchObject({ message: '分区 lawn by block 3(z1) 阀门 v1 拒绝执行开阀指令（stale）：阀门判定指令已过期，请检查阀门时钟 / zone lawn by block 3 (z1): valve v1 refused the open command (stale): it judged the command out of date; check the valve\'s clock' });
  });

  // With an ack timeout above 5 minutes (a class A LoRaWAN valve hears a downlink only after
  // its next uplink) a valve back from an outage can hold several queued copies of the pending
  // command, each refused when over 10 minutes old; the acks name only the command id. The
  // refusal of a second old copy is not the re-issue's: it must not end the run as a fault.
  it('a stale refusal of another old copy of the pending command, after the re-issue, is not taken for the re-issue\'s', () => {
    const h = createHarness({ settings: { debounceS: 0, ackTimeoutS: 360, ackRetries: 2 } });
    h.soil(15);
    const [open] = h.commands();
    h.setNow(MORNING + 16 * MIN); // copies queued at 0 and 6 min, both over 10 minutes old when the valve is back
    h.send({ type: 'ack', ack: { commandId: open?.commandId ?? '', ok: false, state: 0, error: 'stale' } });
    h.send({ type: 'ack', ack: { commandId: open?.commandId ?? '', ok: false, state: 0, error: 'stale' } });
    expect(h.signals()).toEqual([]);
    expect(h.summary()).toEqual(['start:below_low']);
    const again = h.commands().at(-1);
    expect(again).toMatchObject({ action: 'open', issuedAt: MORNING + 16 * MIN });
    // The third copy (12 min) is obeyed; then the re-issue is, and its ack settles the run.
    h.send({ type: 'ack', ack: { commandId: open?.commandId ?? '', ok: true, state: 1 } });
    h.send({ type: 'ack', ack: { commandId: again?.commandId ?? '', ok: true, state: 1 } });
    expect(h.state.run).toMatchObject({ phase: 'watering', pending: undefined });
    expect(h.signals()).toEqual([]);
  });

  it('raises valve_no_effect when the valve acks but moisture does not rise, and closes it', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, effectTimeoutS: 20 * 60, effectMinRise: 1 } });
    h.soil(15);
    h.advanceReporting(30 * MIN, 15.3);
    expect(h.summary().slice(0, 2)).toEqual(['start:below_low', 'stop:valve_no_effect']);
    expect(h.decisions()[1]?.at).toBe(MORNING + 20 * MIN);
    expect(h.signals()[0]).toMatchObject({ action: 'raise', kind: 'valve_no_effect', details: { startMoisture: 15 } });
    expect(h.signals()[0]).toMatchObject({ message: '分区 lawn by block 3(z1) 已浇水 20 分钟，湿度未上升：请检查阀门、管路与喷头 / zone lawn by block 3 (z1): moisture did not rise after 20 min of watering; check the valve, pipe and emitters' });
    expect(h.commands().map((c) => c.action)).toEqual(['open', 'close']);
    // The evening window's run shows flow: that clears it, saying why.
    h.setNow(MORNING + 14 * HOUR);
    h.soil(15);
    h.send({ type: 'valve', at: h.now, state: 1, flowLpm: 15 });
    h.advance(MIN);
    expect(h.signals().map((s) => `${s.action}:${s.kind}`)).toEqual(['raise:valve_no_effect', 'clear:valve_no_effect']);
    expect(h.signals()[1]).toMatchObject({ reason: '浇水时湿度或流量已上升 / moisture or flow rose during watering' });
  });

  it('accepts reported flow as the effect', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, effectTimeoutS: 60 } });
    h.soil(15);
    h.send({ type: 'valve', at: h.now, state: 1, flowLpm: 15 });
    h.advanceReporting(10 * MIN, 15.3);
    expect(h.signals()).toEqual([]);
    expect(h.state.run?.phase).toBe('watering');
  });

  it('ends the run when the valve reports itself closed (auto-off, or closed at the box)', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15);
    h.advance(5 * MIN);
    h.send({ type: 'valve', at: h.now - 10 * MIN, state: 0 }); // a stale report from before the run says nothing
    expect(h.state.run?.phase).toBe('watering');
    h.send({ type: 'valve', at: h.now, state: 0 });
    expect(h.summary().slice(0, 2)).toEqual(['start:below_low', 'stop:valve_closed']);
    expect(h.decisions()[1]).toMatchObject({ durationS: 300 });
  });

  it('after a restart closes the run it was in and starts a fresh one while still dry', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15);
    h.advance(10 * MIN);
    h.soil(18);
    const persisted = JSON.parse(JSON.stringify(h.state));
    expect(persisted.run.phase).toBe('watering');
    h.advance(MIN); // the process was down a minute
    h.send({ type: 'restored' });
    expect(h.summary()).toEqual(['start:below_low', 'stop:restart', 'start:below_low']);
    expect(h.decisions()[1]).toMatchObject({ durationS: 11 * 60 });
    expect(h.commands().map((c) => c.action)).toEqual(['open', 'close', 'open']);
    // the second run gets what the budget and plan leave: a fresh plan, supervised like any other
    expect(h.state.run?.phase).toBe('watering');
  });

  it('after a restart outside the window closes the run and waits', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15);
    h.advance(10 * MIN);
    h.setNow(NOON);
    h.send({ type: 'restored' }); // the engine restores before any reading reaches the zone
    h.soil(18);
    expect(h.summary()).toEqual(['start:below_low', 'stop:restart', 'skip:outside_window']);
    expect(h.decisions()[1]?.durationS).toBe(1980); // counted up to the plan, which the device's auto-off enforced
  });
});

describe('decideWatering: manual zones', () => {
  it('raises watering_needed after the debounce and clears it at mid-band', () => {
    const h = createHarness({ zone: { mode: 'manual', valveId: undefined }, start: NOON });
    h.soil(17);
    h.advanceReporting(HOUR, 17); // windows do not apply to a crew
    expect(h.summary()).toEqual(['alert:below_low']);
    expect(h.signals()).toEqual([expect.objectContaining({ action: 'raise', kind: 'watering_needed', severity: 'warning', details: expect.objectContaining({ moisture: expect.closeTo(17, 0), low: 20 }) })]);
    expect(h.signals()[0]).toMatchObject({ message: '分区 lawn by block 3(z1) 需要浇水：湿度 17.1 %，低于下限 20 % / zone lawn by block 3 (z1) needs watering: moisture 17.1 % below 20 %' });
    h.soil(22); // above low but below mid-band (25): not yet recovered
    h.advance(MIN);
    expect(h.signals()).toHaveLength(1);
    h.soil(26);
    expect(h.summary()).toEqual(['alert:below_low', 'clear:moisture_recovered']);
    expect(h.signals()[1]).toMatchObject({ action: 'clear', kind: 'watering_needed', subject: 'z1', reason: '湿度已恢复 / moisture recovered' });
    expect(h.commands()).toEqual([]);
  });

  it('does not call the crew out before forecast rain', () => {
    const h = createHarness({ zone: { mode: 'manual', valveId: undefined }, settings: { debounceS: 0 } });
    h.send({ type: 'forecast', rainMm: 20, validUntil: MORNING + 6 * HOUR });
    h.soil(15);
    expect(h.summary()).toEqual(['skip:rain_forecast']);
    expect(h.signals()).toEqual([]);
  });
});

describe('decideWatering: operators', () => {
  it('water now starts outside the window and stops at high', () => {
    const h = createHarness({ autoAck: true, start: NOON });
    h.soil(25);
    h.send({ type: 'operator', operation: { op: 'water_now', by: 'admin', durationS: 600 } });
    expect(h.decisions()[0]).toMatchObject({ action: 'start', reason: 'operator_water_now', actor: 'admin', durationS: 600 });
    h.advance(5 * MIN);
    h.soil(31);
    expect(h.summary()).toEqual(['start:operator_water_now', 'stop:reached_high']);
  });

  it.each([
    { name: 'a paused zone', setup: { type: 'operator' as const, operation: { op: 'pause' as const, by: 'ops-1', days: 1 } }, reason: 'paused' },
    { name: 'frost', setup: { type: 'forecast' as const, rainMm: 0, minAirTempC: 1, validUntil: NOON + HOUR }, reason: 'freeze' },
  ])('water now is refused on $name', ({ setup, reason }) => {
    const h = createHarness({ autoAck: true, start: NOON });
    h.send(setup);
    h.send({ type: 'operator', operation: { op: 'water_now', by: 'ops-2' } });
    expect(h.decisions().at(-1)).toMatchObject({ action: 'skip', reason, actor: 'ops-2' });
    expect(h.commands()).toEqual([]);
  });

  it('water now runs its time when the zone has no fresh sensor', () => {
    const h = createHarness({ autoAck: true, start: NOON });
    h.send({ type: 'operator', operation: { op: 'water_now', by: 'ops-1', durationS: 300 } });
    h.advance(10 * MIN);
    expect(h.summary()).toEqual(['start:operator_water_now', 'stop:max_run_time']);
  });

  it('skip next skips one due watering and the zone waters in the next window', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.send({ type: 'operator', operation: { op: 'skip_next', by: 'ops-1' } });
    h.soil(15);
    h.advanceReporting(HOUR, 15);
    expect(h.summary()).toEqual(['operator:skip_next', 'skip:operator_skip']);
    expect(h.decisions()[1]?.actor).toBe('ops-1');
    h.advanceReporting(14 * HOUR, 15); // to 20:00: the evening window
    expect(h.summary().slice(0, 4)).toEqual(['operator:skip_next', 'skip:operator_skip', 'skip:outside_window', 'start:below_low']);
    expect(new Date(h.decisions()[3]?.at ?? 0).toISOString()).toBe('2026-06-15T11:00:00.000Z');
  });

  it('pause stops a run and holds the zone for N days, then it waters again', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15);
    h.advanceReporting(5 * MIN, 17);
    h.send({ type: 'operator', operation: { op: 'pause', by: 'ops-2', days: 2 } });
    expect(h.summary()).toEqual(['start:below_low', 'operator:pause', 'stop:paused', 'skip:paused']);
    expect(h.decisions()[1]).toMatchObject({ actor: 'ops-2', inputs: { pausedUntil: MORNING + 5 * MIN + 2 * 24 * HOUR } });
    h.advanceReporting(2 * 24 * HOUR + HOUR, 15);
    const starts = h.decisions().filter((d) => d.action === 'start');
    expect(starts).toHaveLength(2);
    expect(starts[1]?.at).toBe(MORNING + 5 * MIN + 2 * 24 * HOUR); // the moment the pause ends
  });
});
