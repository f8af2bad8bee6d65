import type { CommandAck, ValveCommand } from '../contracts/commands.ts';
import type { Random } from '../lib/random.ts';
import { drainBattery } from './physics/battery.ts';
import { assignMisbehaviours, initialMisbehaviour, misbehave, type Misbehaviour, type MisbehaviourState } from './physics/misbehaviour.ts';
import { clamp, gaussian, round, uniform } from './physics/noise.ts';
import { irrigationMmH, SOILS, soilEc, soilTemperatureC, stepSoil } from './physics/soil.ts';
import { advanceTilt, applyImpact, readTilt, type Impact, type TiltState } from './physics/tilt.ts';
import { advanceValve, applyValveCommand, closedValve, type ValveState } from './physics/valve.ts';
import { weatherAt, type Climate, type WeatherEffect } from './physics/weather.ts';
import type { FleetSpec, FleetZone, SimDevice } from './fleet/spec.ts';

export interface WorldOptions {
  fleet: FleetSpec;
  devices: SimDevice[];
  startMs: number;
  climate: Climate;
  rng: Random;
  /** Scenario weather at a sim time. */
  weatherEffect: (t: number) => WeatherEffect;
  misbehaviourShare: number;
  /** Devices that misbehave in a given way, on top of the random share (tests pick who). */
  misbehaving?: Readonly<Record<string, MisbehaviourChoice>>;
  /** Physics step (sim seconds). */
  stepS?: number;
  /**
   * Step only on the step grid: a question between two steps reads the last step's soil
   * (at most one step old). Default false: every question steps to its exact time, which
   * costs a step of every zone per off-grid event (fine for a fleet, quadratic for a city).
   */
  gridOnly?: boolean;
}

interface DeviceState {
  device: SimDevice;
  battery: number;
  /** Sensor calibration bias (soil: % VWC) and radio link. */
  bias: number;
  rssiBase: number;
  misbehaviour: MisbehaviourState | undefined;
  lastSampleAt: number;
  /** Rain gauge: mm fallen since its last report. */
  rainMm: number;
}

export type World = ReturnType<typeof createWorld>;

/** A chosen fault; `skewMs` fixes a clock_skew device's offset (+ ahead) instead of a random one. */
export interface MisbehaviourChoice {
  mode: Misbehaviour;
  skewMs?: number;
}

const chosen = (s: MisbehaviourState, choice: MisbehaviourChoice | undefined): MisbehaviourState =>
  (choice?.skewMs === undefined ? s : { ...s, skewMs: choice.skewMs });

/** `balance`: the zone's water so far (mm over its area): what its plants used, what drained below the roots, what ran off. */
type ZoneState = { spec: FleetZone; moisture: number; valveId: string | undefined; pondMm: number; balance: WaterBalance };
export type WaterBalance = { etMm: number; drainMm: number; runoffMm: number };
/** appliedL: the valve's volume the soil has already received (a command between steps integrates the volume up to it). */
type ValveSim = { state: ValveState; zoneId: string; flow: number; appliedL: number };

/**
 * The city at the start: each zone's moisture, each facility's lean and settlement drift,
 * each device's battery, bias, radio and fault. The random draws come in a fixed order (zones
 * and facilities community by community, then faults, then devices): a seed makes the same city.
 */
function seedWorld(o: WorldOptions, noise: () => number) {
  const { rng } = o;
  const zones = new Map<string, ZoneState>();
  const facilities = new Map<string, TiltState>();
  const valves = new Map<string, ValveSim>();
  for (const c of o.fleet.communities) {
    for (const z of c.zones) {
      const s = SOILS[z.soil];
      const moisture = z.initialMoisture ?? uniform(rng, s.wiltingPoint + 0.5 * (s.fieldCapacity - s.wiltingPoint), s.fieldCapacity);
      const valveId = z.mode === 'automatic' ? `${z.id}-v` : undefined;
      zones.set(z.id, { spec: z, moisture, valveId, pondMm: 0, balance: { etMm: 0, drainMm: 0, runoffMm: 0 } });
      if (valveId) valves.set(valveId, { state: closedValve(o.startMs), zoneId: z.id, flow: z.flowLPerMin, appliedL: 0 });
    }
    for (const f of c.facilities) {
      const dir = rng() * 2 * Math.PI;
      facilities.set(f.id, {
        pitch: uniform(rng, -1.5, 1.5),
        roll: uniform(rng, -1.5, 1.5),
        driftPitchPerDay: f.settlementDegPerDay * Math.cos(dir),
        driftRollPerDay: f.settlementDegPerDay * Math.sin(dir),
        pendingShockG: 0,
      });
    }
  }
  const faults = assignMisbehaviours(o.devices.filter((d) => d.kind !== 'gateway').map((d) => d.id), o.misbehaviourShare, rng);
  for (const [id, choice] of Object.entries(o.misbehaving ?? {})) faults.set(id, choice.mode);
  const devices = new Map<string, DeviceState>(o.devices.map((d) => [d.id, {
    device: d,
    // A few nodes arrive with old batteries, so low-battery alerts have something to find.
    battery: rng() < 0.05 ? uniform(rng, 8, 20) : uniform(rng, 60, 100),
    bias: d.kind === 'soil' ? 1.0 * noise() : 0,
    rssiBase: uniform(rng, -115, -65),
    misbehaviour: faults.has(d.id) ? chosen(initialMisbehaviour(faults.get(d.id)!, rng), o.misbehaving?.[d.id]) : undefined,
    lastSampleAt: o.startMs,
    rainMm: 0,
  }]));
  const gauges = [...devices.values()].filter((ds) => ds.device.kind === 'rain');
  return { zones, facilities, valves, devices, gauges };
}

/** What a device's sensors read at t (the world's state, with their noise). */
function measure(w: Pick<ReturnType<typeof seedWorld>, 'zones' | 'facilities' | 'valves'>, o: WorldOptions, noise: () => number, ds: DeviceState, t: number): Record<string, number> {
  const { zones, facilities, valves } = w;
  const d = ds.device;
  // A gateway is mains powered; its heartbeat carries only its backhaul signal.
  if (d.kind === 'gateway') return { rssi: Math.round(ds.rssiBase + 3 * noise()) };
  const base = { battery: round(ds.battery, 1), rssi: Math.round(ds.rssiBase + 3 * noise()) };
  if (d.kind === 'soil') {
    const zone = zones.get(d.zoneId!)!;
    const w = weatherAt(t, o.climate, o.weatherEffect(t));
    return {
      moisture: round(clamp(zone.moisture + ds.bias + 0.3 * noise(), 0, 100), 1),
      temperature: round(soilTemperatureC(w) + 0.2 * noise(), 1),
      ec: round(Math.max(0, soilEc(zone.moisture, zone.spec.soil) + 0.02 * noise()), 2),
      ...base,
    };
  }
  if (d.kind === 'tilt') {
    const read = readTilt(facilities.get(d.facilityId!)!, noise);
    facilities.set(d.facilityId!, read.state);
    const { pitch, roll, shock } = read.reading;
    return { pitch: round(pitch, 2), roll: round(roll, 2), ...(shock !== undefined ? { shock: round(shock, 1) } : {}), ...base };
  }
  if (d.kind === 'rain') {
    // A tipping bucket counts whole 0.2 mm tips; the remainder waits for the next report.
    const tips = Math.floor(ds.rainMm / 0.2 + 1e-9);
    ds.rainMm -= tips * 0.2;
    return { rainfall: round(tips * 0.2, 1), ...base };
  }
  const v = valves.get(d.id)!;
  return { state: v.state.open ? 1 : 0, flow: v.state.open ? round(Math.max(0, v.flow * (1 + 0.02 * noise())), 1) : 0, volume: round(v.state.volumeL, 1), ...base };
}
/**
 * The physical city the devices measure: zones' soil, facilities' attitude, valves.
 * Advanced lazily in fixed steps to whatever sim time a device asks about.
 */
export function createWorld(o: WorldOptions) {
  const { rng } = o;
  const stepMs = (o.stepS ?? 300) * 1000;
  const noise = () => gaussian(rng);
  const { zones, facilities, valves, devices, gauges } = seedWorld(o, noise);

  let now = o.startMs;

  function step(to: number): void {
    const dtS = (to - now) / 1000;
    // One city, one sky: the weather is the same for every zone.
    const weather = weatherAt(to, o.climate, o.weatherEffect(to));
    for (const v of valves.values()) {
      // A closed valve delivers nothing; its clock catches up when it is next commanded.
      if (v.state.open) v.state = advanceValve(v.state, to, v.flow);
      const zone = zones.get(v.zoneId)!;
      // The volume delivered since the last step (a command in between integrated part of it), as a depth rate over the zone.
      const litresPerMin = ((v.state.volumeL - v.appliedL) / dtS) * 60;
      v.appliedL = v.state.volumeL;
      const next = stepSoil(zone.moisture, zone.spec, { weather, irrigationMmH: irrigationMmH(litresPerMin, zone.spec.areaM2), pondMm: zone.pondMm }, dtS);
      zone.moisture = next.moisture;
      zone.pondMm = next.pondMm;
      zone.balance.etMm += next.etMm;
      zone.balance.drainMm += next.drainMm;
      zone.balance.runoffMm += next.runoffMm;
    }
    for (const zone of zones.values()) {
      if (zone.valveId) continue;
      const next = stepSoil(zone.moisture, zone.spec, { weather, irrigationMmH: 0, pondMm: zone.pondMm }, dtS);
      zone.moisture = next.moisture;
      zone.pondMm = next.pondMm;
    }
    for (const [id, s] of facilities) facilities.set(id, advanceTilt(s, dtS));
    for (const g of gauges) g.rainMm += (weather.rainMmH * dtS) / 3600;
    now = to;
  }

  function advanceTo(t: number): void {
    while (now + stepMs <= t) step(now + stepMs);
    if (t > now && !o.gridOnly) step(t);
  }



  function sample(deviceId: string, t: number, seq: number) {
    advanceTo(t);
    const ds = devices.get(deviceId);
    if (!ds) throw new Error(`unknown simulated device ${deviceId}`);
    ds.battery = drainBattery(ds.battery, ds.device.kind, { dtS: (t - ds.lastSampleAt) / 1000, reports: 1, actuations: 0 });
    ds.lastSampleAt = t;
    return { ds, reading: { ts: t, seq, ...measure({ zones, facilities, valves }, o, noise, ds, t) } };
  }

  return {
    now: () => now,
    advanceTo,
    /**
     * What the device sends at t: a native JSON payload, or undefined when it is silent.
     * `ts` and `seq` come from the firmware; the misbehaviour layer may mangle them.
     */
    report(deviceId: string, t: number, seq: number): string | undefined {
      const { ds, reading } = sample(deviceId, t, seq);
      if (!ds.misbehaviour) return JSON.stringify(reading);
      const out = misbehave(ds.misbehaviour, reading, t, rng);
      ds.misbehaviour = out.state;
      return out.payload;
    },
    /**
     * What a well-behaved device measures at t, as the fields of its report (the same draws
     * as `report`): the in-process evaluation reads it without a JSON round trip, which was a
     * tenth of its time. Throws for a device with misbehaviour, whose payload is the point.
     */
    measure(deviceId: string, t: number, seq: number): Record<string, number> {
      const { ds, reading } = sample(deviceId, t, seq);
      if (ds.misbehaviour) throw new Error(`simulated device ${deviceId} misbehaves: read its report`);
      return reading;
    },
    /** A valve obeys a command at t. */
    command(valveId: string, cmd: ValveCommand, t: number): CommandAck {
      advanceTo(t);
      const v = valves.get(valveId);
      if (!v) throw new Error(`no simulated valve ${valveId}`);
      const { state, ack } = applyValveCommand(v.state, cmd, t, v.flow);
      const ds = devices.get(valveId);
      if (ds && state.actuations > v.state.actuations) ds.battery = drainBattery(ds.battery, 'valve', { dtS: 0, reports: 0, actuations: 1 });
      v.state = state;
      return ack;
    },
    valveCloseAt: (valveId: string): number | undefined => valves.get(valveId)?.state.closeAt,
    valveOpen: (valveId: string): boolean => valves.get(valveId)?.state.open === true,
    /** Litres the valve has delivered so far (integrated up to the world's time). */
    valveVolumeL: (valveId: string): number => valves.get(valveId)?.state.volumeL ?? 0,
    valveFlowLpm: (valveId: string): number => valves.get(valveId)?.flow ?? 0,
    impact(facilityId: string, impact: Impact): void {
      const s = facilities.get(facilityId);
      if (s) facilities.set(facilityId, applyImpact(s, impact));
    },
    zoneMoisture: (zoneId: string): number | undefined => zones.get(zoneId)?.moisture,
    /** The zone's water balance so far (a zone with a valve): ET, drainage, runoff in mm. */
    zoneBalance: (zoneId: string): WaterBalance | undefined => zones.get(zoneId)?.balance,
    facilityTilt: (facilityId: string): TiltState | undefined => facilities.get(facilityId),
    misbehaviourOf: (deviceId: string) => devices.get(deviceId)?.misbehaviour?.mode,
  };
}
