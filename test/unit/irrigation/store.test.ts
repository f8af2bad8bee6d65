import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createIrrigationEngine, loadPersisted } from '../../../irrigation/engine.ts';
import { createIrrigationStore } from '../../../irrigation/store.ts';
import type { ZoneSource } from '../../../irrigation/zone-source.ts';
import type { ZoneConfig } from '../../../contracts/zone.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { initialZoneState, type Decision } from '../../../rules/irrigation/state.ts';
import { ENGINES, useLedgers } from '../alerts/helpers.ts';
import { eventually } from '../../helpers/app.ts';

const T0 = Date.parse('2026-07-01T02:00:00Z');
const logger = createLogger('silent');
const zone = (id: string): ZoneConfig => ({ id, communityId: 'c-1', districtId: 'd-1', name: id, plant: 'lawn', mode: 'automatic', soil: 'loam', valveId: `${id}-v` });
const ZONES = [zone('z-1'), zone('z-2')];
const zones: ZoneSource = {
  get: (id) => ZONES.find((z) => z.id === id),
  list: () => ZONES,
  listByCommunity: (c) => ZONES.filter((z) => z.communityId === c),
  zoneOfValve: (valveId) => ZONES.find((z) => z.valveId === valveId)?.id,
};
const decision = (at: number, action: Decision['action'], reason: string, extra: Partial<Decision> = {}): Decision =>
  ({ zoneId: 'z-1', at, action, reason, mode: 'automatic', inputs: { moisture: 18.5, counted: ['s-1'], excluded: [] } as unknown as Decision['inputs'], ...extra });

/** A node's engine over `sql`: what it published, by valve. */
async function node(sql: Sql, clock = createManualClock(T0), flushIntervalMs?: number) {
  const store = createIrrigationStore(sql, logger);
  const commands: Array<{ valveId: string; action: string }> = [];
  const engine = createIrrigationEngine({
    zones, store, persisted: await loadPersisted(store), clock, logger, sharedStore: sql.dialect === 'postgres',
    publish: async (topic, payload) => { commands.push({ valveId: topic.split('/')[1]!, action: (JSON.parse(payload) as { action: string }).action }); },
    appendLines: async () => undefined, signal: () => undefined, ...(flushIntervalMs ? { flushIntervalMs } : {}),
  });
  return { store, engine, commands, clock };
}

describe.each(ENGINES)('irrigation store on %s', (engine) => {
  const ledgers = useLedgers(engine);

  it('keeps zone states, a zone\'s newest over its older, and reads them per zone', async () => {
    const { sql } = await ledgers.database();
    const store = createIrrigationStore(sql, logger);
    await store.saveStates([{ ...initialZoneState('z-1'), pausedUntil: 1 }, initialZoneState('z-2')], T0);
    await store.saveStates([{ ...initialZoneState('z-1'), pausedUntil: 2 }], T0 + 1);
    const all = await store.loadStates();
    expect([...all.keys()].sort()).toEqual(['z-1', 'z-2']);
    expect(all.get('z-1')?.pausedUntil).toBe(2);
    expect([...(await store.loadStates(['z-2', 'z-9'])).keys()]).toEqual(['z-2']);
    await sql.run("UPDATE irrigation_state SET state = '{\"zoneId\":5}' WHERE zone_id = 'z-2'");
    expect([...(await store.loadStates()).keys()]).toEqual(['z-1']); // unreadable: dropped, the zone starts afresh
  });

  it('lists decisions newest first, filtered, with their numbers and inputs as written', async () => {
    const { sql } = await ledgers.database();
    const store = createIrrigationStore(sql, logger);
    await store.addDecision(decision(T0, 'start', 'below_low', { runId: 'r-1' }));
    await store.addDecision(decision(T0 + 1_000, 'stop', 'reached_high', { runId: 'r-1', durationS: 61.5, volumeL: 12.25 }));
    await store.addDecision(decision(T0 + 2_000, 'skip', 'rain', { actor: 'op' }));
    const listed = await store.listDecisions('z-1', { limit: 10 });
    expect(listed.map((d) => d.reason)).toEqual(['rain', 'reached_high', 'below_low']);
    expect(listed[1]).toMatchObject({ at: T0 + 1_000, durationS: 61.5, volumeL: 12.25, runId: 'r-1', inputs: { moisture: 18.5, counted: ['s-1'] } });
    expect(typeof listed[1]!.id).toBe('number');
    expect((await store.listDecisions('z-1', { limit: 10, action: 'stop' })).map((d) => d.reason)).toEqual(['reached_high']);
    expect((await store.listDecisions('z-1', { limit: 1, since: T0 + 500 })).map((d) => d.reason)).toEqual(['rain']);
  });

  it('keeps signals and overrides', async () => {
    const { sql } = await ledgers.database();
    const store = createIrrigationStore(sql, logger);
    await store.addSignal({ action: 'raise', at: T0, kind: 'valve_no_ack', subject: 'z-1', severity: 'critical', message: '阀门无应答', communityId: 'c-1', details: { valveId: 'z-1-v' } } as never);
    await store.addSignal({ action: 'clear', at: T0 + 1, kind: 'valve_no_ack', subject: 'z-1', reason: 'acked' } as never);
    expect(await store.listSignals('z-1', 10)).toMatchObject([
      { action: 'clear', kind: 'valve_no_ack', severity: null, message: 'acked', details: null },
      { action: 'raise', severity: 'critical', message: '阀门无应答', details: { valveId: 'z-1-v' } },
    ]);
    await store.setOverride('z-1', { band: { low: 22, high: 32 } }, 'op', T0);
    await store.setOverride('z-1', { settings: { maxRunS: 120 } }, 'op', T0 + 1);
    expect(await store.getOverride('z-1')).toEqual({ settings: { maxRunS: 120 } });
    expect(await store.getOverride('z-2')).toBeUndefined();
  });

  it('a node taking the zones over closes the run the previous owner left open (on a shared store, only that one) and decides with its overrides', async () => {
    const { sql, url } = await ledgers.database();
    const a = await node(sql);
    await a.engine.setOverride('z-2', { settings: { maxRunS: 90 } }, 'op');
    a.engine.dispatch('z-1', { type: 'operator', operation: { op: 'water_now', by: 'op', durationS: 600 } });
    // PostgreSQL: the open waits for the state that shows the run to be written; SQLite: at once, as always.
    expect(a.commands).toEqual(engine === 'postgres' ? [] : [{ valveId: 'z-1-v', action: 'open' }]);
    await a.engine.stop(); // A's states are written; A dies without closing anything
    expect(a.commands).toEqual([{ valveId: 'z-1-v', action: 'open' }]);

    // B: another pool on the same PostgreSQL (another node), or the same SQLite file (a restart).
    const b = await node(url ? ledgers.pool(url) : sql, createManualClock(T0 + 5_000));
    await b.engine.adopt(['z-1', 'z-2']);
    await b.engine.stop();
    // Shared (PostgreSQL): only the valve whose zone had a run open. A store of the node's own
    // (SQLite) cannot show another node's run: every valve taken over gets a close.
    expect(b.commands).toEqual(engine === 'postgres' ? [{ valveId: 'z-1-v', action: 'close' }] : [{ valveId: 'z-1-v', action: 'close' }, { valveId: 'z-2-v', action: 'close' }]);
    expect(b.engine.stateOf('z-1')?.run?.phase).toBe('closing');
    expect((await b.store.listDecisions('z-1', { limit: 5 })).map((d) => `${d.action}:${d.reason}`)).toEqual(['stop:restart', 'start:operator_water_now']);
    expect(b.engine.effectiveSettings('z-2')?.maxRunS).toMatchObject({ value: 90, source: 'zone_override' });
  });

  it('writes a zone\'s states in the order they were decided', async () => {
    const { sql } = await ledgers.database();
    const a = await node(sql);
    // The first write is slow (a busy connection): the ones after it must not land before it.
    const save = a.store.saveStates;
    let slow = true;
    a.store.saveStates = async (states, at) => {
      if (slow) { slow = false; await new Promise((r) => setTimeout(r, 50)); }
      return save(states, at);
    };
    for (let i = 1; i <= 30; i++) a.engine.dispatch('z-1', { type: 'operator', operation: { op: 'pause', by: 'op', days: i % 2 } });
    await a.engine.stop();
    expect((await a.store.loadStates(['z-1'])).get('z-1')).toEqual(a.engine.stateOf('z-1'));
  });
});

describe('irrigation overrides shared in PostgreSQL', () => {
  const ledgers = useLedgers('postgres');

  it('an override set through another node is decided with by the owner within a flush interval', async () => {
    const { sql, url } = await ledgers.database();
    const owner = await node(sql, createManualClock(T0), 50);
    const other = await node(ledgers.pool(url!), createManualClock(T0), 50);
    try {
      expect(owner.engine.effectiveSettings('z-2')?.maxRunS?.source).not.toBe('zone_override');
      await other.engine.setOverride('z-2', { settings: { maxRunS: 77 } }, 'op');
      await eventually(() => (owner.engine.effectiveSettings('z-2')?.maxRunS?.value === 77 ? true : undefined), 2_000, 'the owner to read the override');
      await other.engine.setOverride('z-2', {}, 'op');
      await eventually(() => (owner.engine.effectiveSettings('z-2')?.maxRunS?.source !== 'zone_override' ? true : undefined), 2_000, 'the owner to drop it');
    } finally {
      await owner.engine.stop();
      await other.engine.stop();
    }
  });
});
