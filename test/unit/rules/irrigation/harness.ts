import { decideWatering } from '../../../../rules/irrigation/decide.ts';
import { DEFAULT_BANDS, DEFAULT_SOIL_OFFSET, defaultSettings, type IrrigationSettings } from '../../../../rules/irrigation/settings.ts';
import { initialZoneState, type Decision, type IrrigationAction, type IrrigationEvent, type ZoneIrrigationState } from '../../../../rules/irrigation/state.ts';
import type { ZoneConfig } from '../../../../contracts/zone.ts';
import type { ValveCommand } from '../../../../contracts/commands.ts';
import type { AlertSignal } from '../../../../contracts/alert.ts';

/** 05:00 in Shanghai on 15 June 2026: the morning window opens. */
export const MORNING = Date.parse('2026-06-15T05:00:00+08:00');
export const NOON = Date.parse('2026-06-15T12:00:00+08:00');
export const MIN = 60_000;
export const HOUR = 3_600_000;

/**
 * The plant-type table (lawn on loam 20–30), pinned: the decider tests are about the decider,
 * not the default band (FAO-56 since the table stopped being the default; zone-state.test.ts).
 */
export const TABLE_BANDS = { bands: DEFAULT_BANDS, soilOffset: DEFAULT_SOIL_OFFSET } satisfies Partial<IrrigationSettings>;

export const baseZone: ZoneConfig = {
  id: 'z1', communityId: 'c1', districtId: 'd1', name: 'lawn by block 3', plant: 'lawn', mode: 'automatic', soil: 'loam', valveId: 'v1',
};

/**
 * A zone driven through simulated time: events go to the pure decider, ticks fire every
 * `step`, and an optional simulated valve acks every command at once.
 */
export function createHarness(opts: { zone?: Partial<ZoneConfig>; settings?: Partial<IrrigationSettings>; start?: number; autoAck?: boolean } = {}) {
  const zone = { ...baseZone, ...opts.zone };
  // These tests specify the threshold controller; the predictive one has its own (decide-predictive.test.ts).
  const settings = defaultSettings({ ...TABLE_BANDS, controller: 'threshold', debounceS: 30 * 60, ...opts.settings });
  let now = opts.start ?? MORNING;
  let state: ZoneIrrigationState = initialZoneState(zone.id);
  const all: IrrigationAction[] = [];
  let valveOpen = false;

  const send = (event: IrrigationEvent): IrrigationAction[] => {
    const result = decideWatering(state, event, { now, zone, settings });
    state = result.state;
    all.push(...result.actions);
    const out = [...result.actions];
    if (opts.autoAck) {
      for (const a of result.actions) {
        if (a.type !== 'command') continue;
        valveOpen = a.command.action === 'open';
        out.push(...send({ type: 'ack', ack: { commandId: a.command.commandId, ok: true, state: valveOpen ? 1 : 0 } }));
      }
    }
    return out;
  };

  return {
    zone,
    settings,
    get now() { return now; },
    get state() { return state; },
    get valveOpen() { return valveOpen; },
    set autoAck(v: boolean) { opts.autoAck = v; },
    send,
    soil: (moisture: number, deviceId = 's1', temperature?: number) => send({ type: 'soil', deviceId, at: now, moisture, temperature, intervalS: 900 }),
    /** Move the clock in steps, ticking the zone at each, and optionally reporting soil each step. */
    advance(ms: number, step = MIN, onStep?: () => void): void {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + step);
        onStep?.();
        send({ type: 'tick' });
      }
    },
    /**
     * Advance while sensors report every 15 minutes (as real ones do), with a ±0.05 jitter so
     * an unchanging soil never looks stuck. `moisture` may follow the clock.
     */
    advanceReporting(ms: number, moisture: number | ((t: number) => number), devices: string[] = ['s1'], temperature?: number): void {
      let n = 0;
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + MIN);
        if (Math.round(now / MIN) % 15 === 0) {
          const base = typeof moisture === 'number' ? moisture : moisture(now);
          n += 1;
          for (const d of devices) send({ type: 'soil', deviceId: d, at: now, moisture: base + (n % 2 === 0 ? 0.05 : -0.05), temperature, intervalS: 900 });
        }
        send({ type: 'tick' });
      }
    },
    setNow(ms: number) { now = ms; },
    decisions: (): Decision[] => all.flatMap((a) => (a.type === 'record' ? [a.decision] : [])),
    commands: (): ValveCommand[] => all.flatMap((a) => (a.type === 'command' ? [a.command] : [])),
    signals: (): AlertSignal[] => all.flatMap((a) => (a.type === 'signal' ? [a.signal] : [])),
    summary: () => all.flatMap((a) => (a.type === 'record' ? [`${a.decision.action}:${a.decision.reason}`] : [])),
  };
}
