import type { DeviceInfo } from '../contracts/device.ts';
import type { AcceptedReading } from '../contracts/reading.ts';
import { ValveCommand } from '../contracts/commands.ts';
import { deviceTopic } from '../contracts/topics.ts';
import { createRandom } from '../lib/random.ts';
import { gaussian } from '../firmware-sim/physics/noise.ts';
import { createLogger } from '../lib/logger.ts';
import { openDb } from '../registry/db.ts';
import { createIrrigationEngine } from '../irrigation/engine.ts';
import { createHealthMonitor } from '../health/monitor.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import { createIrrigationStore } from '../irrigation/store.ts';
import { sqliteSqlOf } from '../registry/sql/sqlite.ts';
import type { ZoneSource } from '../irrigation/zone-source.ts';
import type { IrrigationSettings } from '../rules/irrigation/settings.ts';
import type { Decision } from '../rules/irrigation/state.ts';
import { createWorld, type World } from '../firmware-sim/world.ts';
import { listDevices, type FleetSpec, type SimDevice } from '../firmware-sim/fleet/spec.ts';
import { DEFAULT_CLIMATE, weatherAt } from '../firmware-sim/physics/weather.ts';
import { SOILS } from '../firmware-sim/physics/soil.ts';
import { cycleSoakOf } from '../rules/irrigation/water-balance.ts';
import { createEventQueue, type EventQueue } from './event-queue.ts';
import { createZoneMeter, type ZoneResult } from './metrics.ts';
import { rainBetween, type Scenario } from './scenarios.ts';
import type { EvalZone } from './zones.ts';

export const CONTROLLERS = ['controller', 'peak-timer', 'et-timer'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface SimulateOptions {
  zones: EvalZone[];
  fleet: FleetSpec;
  scenario: Scenario;
  seed: number;
  settings: Partial<IrrigationSettings>;
  traceZones: ReadonlySet<string>;
  /** Decisions of these zones are kept for the report (what an operator would read). */
  explainZones: ReadonlySet<string>;
  onDay?: (day: number) => void;
}

export interface SimulateResult {
  rows: ZoneResult[];
  decisions: Decision[];
  /** Alert signals raised (kind → count): valve faults, sensor faults, infeasible zones. */
  signals: Record<string, number>;
  /** Every alert raised, by kind and subject (a zone or a device): what the faults scenario checks its injected faults against. */
  raised: Array<{ kind: string; subject: string; at: number }>;
}

const HOUR = 3_600_000;
/** The world's physics step; devices report on it, so no event forces a step of the whole city between two. */
export const STEP_S = 300;
const onGrid = (ms: number) => Math.floor(ms / (STEP_S * 1000)) * STEP_S * 1000;
const DAY = 24 * HOUR;

/** The evaluation's world for a fleet: the same seed gives every controller (and the bound, evaluate/oracle.ts) the same soil, sensors and sky. */
export function evaluationWorld(fleet: FleetSpec, scenario: Scenario, seed: number, devices: SimDevice[] = listDevices(fleet)): World {
  return createWorld({ fleet, devices, startMs: scenario.startMs, climate: DEFAULT_CLIMATE, rng: createRandom(seed), weatherEffect: scenario.effect, misbehaviourShare: 0, stepS: STEP_S, gridOnly: true });
}

/**
 * Run one controller over the scenario; the world's physics is the simulator's. Async only to
 * let promises settle: the engine's publish and appendLines return promises with a `.catch`,
 * whose reactions wait in the microtask queue until the simulation yields. Run without a break,
 * the city's season kept every decision and command of the season alive that way (2.3 GB
 * RSS, 299 s against 254 s); it yields once a simulated day, which changes no result.
 */
export async function simulate(name: ControllerName, o: SimulateOptions): Promise<SimulateResult> {
  const devices = listDevices(o.fleet);
  const world = evaluationWorld(o.fleet, o.scenario, o.seed, devices);
  const queue = createEventQueue(o.scenario.startMs);
  const end = o.scenario.startMs + o.scenario.days * DAY;
  const sensed = new Map<string, Map<string, number>>();
  const runs = new Map<string, number>();
  const out: SimulateResult = { rows: [], decisions: [], signals: {}, raised: [] };

  if (name === 'controller') wireEngine(o, world, queue, devices, sensed, runs, out);
  else scheduleTimer(name, o, world, queue, runs);

  const meters = new Map(o.zones.map((z) => [z.config.id, createZoneMeter(z, o.traceZones.has(z.config.id))]));
  for (let t = o.scenario.startMs + HOUR; t <= end; t += HOUR) {
    queue.at(t, () => {
      world.advanceTo(t);
      for (const z of o.zones) {
        const m = world.zoneMoisture(z.config.id)!;
        meters.get(z.config.id)!.sample(m, name === 'controller' ? median(sensed.get(z.config.id)) : m);
      }
      if ((t - o.scenario.startMs) % DAY === 0) o.onDay?.((t - o.scenario.startMs) / DAY);
    });
  }
  for (let t = Math.min(end, o.scenario.startMs + DAY); ; t = Math.min(end, t + DAY)) {
    queue.runUntil(t);
    await settle();
    if (t === end) break;
  }
  world.advanceTo(end);
  out.rows = o.zones.map((z) => meters.get(z.config.id)!.finish(world.valveVolumeL(z.config.valveId!), runs.get(z.config.id) ?? 0, world.zoneBalance(z.config.id)));
  return out;
}

/** Resolves after the promise reactions queued so far have run (they are ahead of it in the microtask queue). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function median(values: Map<string, number> | undefined): number | undefined {
  if (!values || values.size === 0) return undefined;
  const v = [...values.values()].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

const deviceInfo = (d: SimDevice, plant: string | undefined): DeviceInfo => ({
  id: d.id, kind: d.kind, devEui: undefined, reportIntervalS: d.reportIntervalS, disabled: false,
  districtId: d.districtId, communityId: d.communityId, zoneId: d.zoneId, plant, facilityId: undefined, facilityType: undefined,
  baselinePitch: undefined, baselineRoll: undefined,
});

/**
 * The real irrigation engine, in process: the app's decider, state machine, windows, skips
 * and valve supervision, with the SQLite store in memory, every timer on the simulated
 * clock, and the world standing in for MQTT (commands reach the valve and its ack comes
 * back 1.5 s later). Readings arrive at the devices' intervals, each sensor at its own phase;
 * the weather feed's forecast (rain in the next 24 h, as the scenario will have it) every 6 h.
 */
function wireEngine(o: SimulateOptions, world: World, queue: EventQueue, devices: SimDevice[], sensed: Map<string, Map<string, number>>, runs: Map<string, number>, out: SimulateResult): void {
  const configs = new Map(o.zones.map((z) => [z.config.id, z.config]));
  const byCommunity = new Map<string, EvalZone['config'][]>();
  for (const z of o.zones) byCommunity.set(z.config.communityId, [...(byCommunity.get(z.config.communityId) ?? []), z.config]);
  const zones: ZoneSource = {
    get: (id) => configs.get(id),
    list: () => [...configs.values()],
    listByCommunity: (id) => byCommunity.get(id) ?? [],
    zoneOfValve: (valveId) => (valveId.endsWith('-v') && configs.has(valveId.slice(0, -2)) ? valveId.slice(0, -2) : undefined),
  };
  const logger = createLogger('silent');
  const store = createIrrigationStore(sqliteSqlOf(openDb(':memory:')), logger);
  // The engine reads its states from the store only when it starts; saving them (after every run's step, and every flush) is for a restart the evaluation never has.
  store.saveStates = async () => undefined;
  const addDecision = store.addDecision;
  store.addDecision = async (d) => {
    if (d.action === 'start') runs.set(d.zoneId, (runs.get(d.zoneId) ?? 0) + 1);
    if (o.explainZones.has(d.zoneId)) { out.decisions.push(d); await addDecision(d); }
  };
  const reporting = new Set<string>();
  const plantOf = new Map(o.zones.map((z) => [z.config.id, z.config.plant]));
  const info = new Map(devices.map((d) => [d.id, deviceInfo(d, d.zoneId ? plantOf.get(d.zoneId) : undefined)]));
  const engine = createIrrigationEngine({
    zones, store, logger, clock: { now: queue.now }, settings: o.settings, timers: queue.timers, flushIntervalMs: 6 * HOUR,
    appendLines: async () => undefined,
    signal: (s) => countSignal(out, s),
    publish: async (topic, payload) => {
      const valveId = topic.split('/')[1]!;
      const cmd = ValveCommand.parse(JSON.parse(payload));
      queue.at(queue.now() + 1_500, () => {
        const ack = world.command(valveId, cmd, queue.now());
        engine.onAck(deviceTopic(valveId, 'ack'), Buffer.from(JSON.stringify(ack)));
        if (cmd.action === 'open' && !reporting.has(valveId)) reportValve(valveId, queue.now() + 300_000);
      });
    },
  });
  const deliver = (d: DeviceInfo, fields: AcceptedReading['fields'], t: number) => {
    const reading: AcceptedReading = { deviceId: d.id, ts: t, receivedAt: t, dedupKey: undefined, kind: d.kind, source: 'native', fields };
    if (d.kind === 'soil') health?.onReading(reading, d);
    engine.onReading(reading, d);
  };
  // A valve reports every 5 min; only its reports while open (and the first closed one) can matter to the rules.
  const reportValve = (valveId: string, t: number) => {
    reporting.add(valveId);
    queue.at(t, () => {
      const open = world.valveOpen(valveId);
      deliver(info.get(valveId)!, { state: open ? 1 : 0, flow: open ? world.valveFlowLpm(valveId) : 0 }, t);
      if (open) reportValve(valveId, t + 300_000);
      else reporting.delete(valveId);
    });
  };
  const faults = o.scenario.faults ? faultPlan(o.zones) : new Map<string, Fault>();
  // With sensor faults, the app's device-health detectors run beside the engine, as they do in
  // the app: a stuck sensor is theirs (sensor_stuck), a dead one their offline sweep's (device_offline).
  // Soil sensors only: the world's valves report only while open and its rain gauges only when it rains, which the sweep would take for offline.
  const health = o.scenario.faults ? deviceHealth(queue, [...info.values()].filter((d) => d.kind === 'soil'), out, o.scenario.startMs + o.scenario.days * DAY) : undefined;
  const rng = createRandom(o.seed ^ 0x5eed);
  let seq = 0;
  for (const d of devices) {
    const dev = info.get(d.id)!;
    if (d.kind === 'soil') {
      const fault = faults.get(d.id);
      const every = d.reportIntervalS * 1000;
      let frozen: number | undefined;
      const tick = (t: number) => queue.at(t, () => {
        const r = world.measure(d.id, t, seq++) as { moisture: number; temperature: number };
        let moisture = r.moisture;
        const faultOn = fault && t >= o.scenario.startMs + DAY;
        if (faultOn && fault === 'dead') return;
        if (faultOn && fault === 'stuck') moisture = frozen ??= moisture;
        if (faultOn && fault === 'drift') moisture = Math.round((moisture + 0.5 * ((t - o.scenario.startMs - DAY) / DAY)) * 10) / 10;
        const temperature = faultOn && fault === 'stuck' ? 25 : r.temperature;
        let zoneSensed = sensed.get(d.zoneId!);
        if (!zoneSensed) sensed.set(d.zoneId!, (zoneSensed = new Map()));
        zoneSensed.set(d.id, moisture);
        deliver(dev, { moisture, temperature }, t);
        tick(t + every);
      });
      tick(o.scenario.startMs + onGrid(rng() * every));
    } else if (d.kind === 'rain') {
      const tick = (t: number) => queue.at(t, () => {
        const r = world.measure(d.id, t, seq++) as { rainfall: number };
        if (r.rainfall > 0) deliver(dev, { rainfall: r.rainfall }, t);
        tick(t + d.reportIntervalS * 1000);
      });
      tick(o.scenario.startMs + onGrid(rng() * d.reportIntervalS * 1000));
    }
  }
  const forecastRng = createRandom(o.seed ^ 0xe70);
  const forecast = (t: number) => queue.at(t, () => {
    const rainMm = rainBetween(o.scenario, t, t + DAY);
    // ET0 of the next 24 h as the scenario will have it, with a forecast's error (σ 10 %, as day-ahead ET0 forecasts verify).
    const et0MmDay = Math.round(et0Between(o.scenario, t, t + DAY) * (1 + 0.1 * gaussian(forecastRng)) * 10) / 10;
    for (const z of o.zones) engine.dispatch(z.config.id, { type: 'forecast', rainMm, et0MmDay, validUntil: t + 12 * HOUR, by: 'weather feed' });
    forecast(t + 6 * HOUR);
  });
  forecast(o.scenario.startMs);
}

function countSignal(out: SimulateResult, s: AlertSignal): void {
  if (s.action !== 'raise') return;
  out.signals[s.kind] = (out.signals[s.kind] ?? 0) + 1;
  out.raised.push({ kind: s.kind, subject: s.subject, at: s.at });
}

/** The app's health monitor (health/monitor.ts) on the simulated clock: readings as they arrive, the offline sweep every 5 minutes. */
function deviceHealth(queue: EventQueue, devices: DeviceInfo[], out: SimulateResult, end: number) {
  const monitor = createHealthMonitor({
    clock: { now: queue.now }, logger: createLogger('silent'), devices: { list: () => devices }, saveBaseline: () => undefined,
    alerts: { apply: async (s: AlertSignal) => countSignal(out, s), onTransition: () => () => undefined },
  });
  const sweep = (t: number) => queue.at(t, () => {
    monitor.sweep();
    if (t + 300_000 <= end) sweep(t + 300_000);
  });
  sweep(queue.now() + 300_000);
  return monitor;
}

export type Fault = 'stuck' | 'drift' | 'dead';

/** The alert that tells of each injected fault: its kind and whether it names the zone or the device. */
export const FAULT_ALERT: Record<Fault, { kind: string; subject: 'zone' | 'device' }> = {
  stuck: { kind: 'sensor_stuck', subject: 'device' },
  drift: { kind: 'sensor_disagreement', subject: 'zone' },
  dead: { kind: 'device_offline', subject: 'device' },
};

/** In the faults scenario: sensor 1 of every zone, in turn stuck, drifting wet (+0.5 points a day) or dead, from day 2. */
export function faultPlan(zones: EvalZone[]): Map<string, Fault> {
  const kinds: Fault[] = ['stuck', 'drift', 'dead'];
  return new Map(zones.map((z, i) => [`${z.config.id}-s1`, kinds[i % 3]!]));
}

/** Reference ET0 (mm) over [from, to) from the simulator's weather, hour by hour. */
function et0Between(s: Scenario, from: number, to: number): number {
  let mm = 0;
  for (let t = from; t < to; t += HOUR) mm += weatherAt(t + HOUR / 2, DEFAULT_CLIMATE, s.effect(t + HOUR / 2)).et0MmH;
  return mm;
}

/** Daily reference ET0 (mm) of each scenario day, from the simulator's weather. */
export function dailyEt0(s: Scenario): number[] {
  const days: number[] = [];
  for (let d = 0; d < s.days; d++) {
    let mm = 0;
    for (let h = 0; h < 24; h++) {
      const t = s.startMs + d * DAY + h * HOUR + HOUR / 2;
      mm += weatherAt(t, DEFAULT_CLIMATE, s.effect(t)).et0MmH;
    }
    days.push(mm);
  }
  return days;
}

/**
 * A timer's watering, split in cycles with soaks between where the valve applies water faster
 * than the soil takes it in — the same split the controller makes (cycleSoakOf), as a
 * contractor's controller offers (Rain Bird's Cycle+Soak): the timers face the same surface.
 */
function openInCycles(world: World, queue: EventQueue, z: EvalZone, id: string, seconds: number, cycle: { runS: number; soakS: number } | undefined, t: number): void {
  const valveId = z.config.valveId!;
  if (!cycle) {
    world.command(valveId, { commandId: `${id}-${z.config.id}`, action: 'open', autoOffS: seconds, issuedAt: t }, t);
    return;
  }
  let at = t;
  for (let left = seconds, k = 0; left > 0; left -= cycle.runS, k++, at += (cycle.runS + cycle.soakS) * 1000) {
    const autoOffS = Math.min(cycle.runS, left);
    const start = at;
    const open = () => world.command(valveId, { commandId: `${id}-${k}-${z.config.id}`, action: 'open', autoOffS, issuedAt: start }, start);
    if (k === 0) open();
    else queue.at(start, open);
  }
}

/**
 * The two timers the controller is measured against, both opening at 05:00 and closing on the
 * valve's own auto-off. Peak: the contractor's setting, each zone's peak daily need (Kc × the
 * highest daily ET0 of the period) every day, set once and left. ET-adjusted: a soil-water bucket
 * (as the Home Assistant smart-irrigation add-on keeps it) debited by yesterday's Kc × ET0 and
 * credited with its rain, capped at the readily available water; when negative, the deficit is
 * applied and the bucket reset.
 */
function scheduleTimer(name: Exclude<ControllerName, 'controller'>, o: SimulateOptions, world: World, queue: EventQueue, runs: Map<string, number>): void {
  const et0 = dailyEt0(o.scenario);
  const peak = Math.max(...et0);
  const bucket = new Map(o.zones.map((z) => [z.config.id, 0]));
  for (let d = 0; d < o.scenario.days; d++) {
    const t = o.scenario.startMs + d * DAY + 5 * HOUR;
    queue.at(t, () => {
      const rainMm = d === 0 ? 0 : rainBetween(o.scenario, t - DAY, t);
      for (const z of o.zones) {
        let mm: number;
        if (name === 'peak-timer') mm = z.kc * peak;
        else {
          const s = SOILS[z.config.soil];
          const raw = 0.5 * ((s.fieldCapacity - s.wiltingPoint) / 100) * z.rootDepthMm;
          const level = Math.min(raw, bucket.get(z.config.id)! + rainMm - (d === 0 ? 0 : z.kc * et0[d - 1]!));
          mm = level < 0 ? -level : 0;
          bucket.set(z.config.id, level < 0 ? 0 : level);
        }
        const seconds = Math.round((mm * z.areaM2 * 60) / z.flowLpm);
        if (seconds <= 0) continue;
        openInCycles(world, queue, z, `${name}-${d}`, seconds, cycleSoakOf(z.config, o.settings.cycleSoak ?? {}), t);
        runs.set(z.config.id, (runs.get(z.config.id) ?? 0) + 1);
      }
    });
  }
}
