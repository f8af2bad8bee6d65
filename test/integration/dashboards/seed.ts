import type { Alert, AlertKind, AlertState, Severity } from '../../../contracts/alert.ts';
import type { DeviceInfo } from '../../../contracts/device.ts';
import type { AcceptedReading, DeviceKind, ReadingFields } from '../../../contracts/reading.ts';
import type { ZoneConfig } from '../../../contracts/zone.ts';
import { createAlertPointBuilder } from '../../../alerts/alert-points.ts';
import { deviceStatusLines } from '../../../health/device-status-points.ts';
import { deriveTilt, toPoint } from '../../../ingest/to-point.ts';
import { createIngestStatsWriter } from '../../../ingest/stats-writer.ts';
import { toWateringLine } from '../../../irrigation/watering-line.ts';
import type { InfluxHttp } from '../../../influx/http.ts';
import { ROLLUP_RESOLUTIONS } from '../../../contracts/influx-schema.ts';
import { queryRollupLines } from '../../../rollups/roll.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import { createRandom } from '../../../lib/random.ts';
import { decideWatering } from '../../../rules/irrigation/decide.ts';
import { defaultSettings } from '../../../rules/irrigation/settings.ts';
import { initialZoneState, type Decision, type IrrigationEvent } from '../../../rules/irrigation/state.ts';

/**
 * A small city, written through the real writers: readings through ingest/to-point.ts;
 * the dry zones' watering decisions by the irrigation decider itself, written by
 * irrigation/watering-line.ts; alert transitions through alerts/alert-points.ts; device
 * status through health/device-status-points.ts; ingest statistics through
 * ingest/stats-writer.ts over a real prom-client registry; the rollups by rollups/roll.ts
 * from those raw points. The one place the dashboard
 * tests get data from.
 */
export interface SeededCity {
  fromMs: number;
  toMs: number;
  districts: string[];
  communities: Array<{ id: string; district: string; zones: string[]; facilities: string[] }>;
  points: number;
}

const STEP_MS = 15 * 60_000;
const HOURS = 12;

const PLACES = [
  { id: 'c-001', district: 'north', plants: ['lawn', 'shrubs'] as const, facilities: [['f-001-pavilion', 'pavilion'], ['f-001-rope', 'trellis_rope']] as const },
  // A dot in the id exercises regex escaping of template variables.
  { id: 'c.002', district: 'north', plants: ['trees', 'hedge'] as const, facilities: [['f-002-bench', 'bench']] as const },
  { id: 'c-101', district: 'south', plants: ['ground_cover', 'lawn'] as const, facilities: [['f-101-trough', 'planter_trough'], ['f-101-gym', 'fitness_equipment']] as const },
];

function device(id: string, kind: DeviceKind, place: Partial<DeviceInfo>): DeviceInfo {
  return {
    id, kind, devEui: undefined, reportIntervalS: 900, disabled: false,
    districtId: undefined, communityId: undefined, zoneId: undefined, plant: undefined,
    facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined,
    ...place,
  };
}

function reading(d: DeviceInfo, ts: number, seq: number, fields: ReadingFields): AcceptedReading {
  return { deviceId: d.id, ts, dedupKey: String(seq), fields, source: 'native', kind: d.kind, receivedAt: ts };
}

function push<K, T>(map: Map<K, T[]>, key: K, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Runs the irrigation decider over the zone's readings minute by minute, with a valve that
 * acks every command and reports its flow while open; returns the decisions it recorded.
 */
function waterZone(zone: ZoneConfig, events: IrrigationEvent[], fromMs: number, toMs: number): Decision[] {
  const settings = defaultSettings();
  const byMinute = new Map<number, IrrigationEvent[]>();
  for (const e of events) if ('at' in e) push(byMinute, e.at, e);
  let state = initialZoneState(zone.id);
  let open = false;
  const decisions: Decision[] = [];
  const send = (event: IrrigationEvent, now: number): void => {
    const result = decideWatering(state, event, { now, zone, settings });
    state = result.state;
    for (const a of result.actions) {
      if (a.type === 'record') decisions.push(a.decision);
      if (a.type !== 'command') continue;
      open = a.command.action === 'open';
      send({ type: 'ack', ack: { commandId: a.command.commandId, ok: true, state: open ? 1 : 0 } }, now);
    }
  };
  for (let now = fromMs; now <= toMs; now += 60_000) {
    for (const e of byMinute.get(now) ?? []) send(e, now);
    if (open) send({ type: 'valve', at: now, state: 1, flowLpm: 12 }, now);
    send({ type: 'tick' }, now);
  }
  return decisions;
}

export async function seedCity(influx: InfluxHttp, options: { toMs: number; seed?: number }): Promise<SeededCity> {
  const random = createRandom(options.seed ?? 7);
  const toMs = options.toMs;
  const fromMs = toMs - HOURS * 3_600_000;
  const lines: string[] = [];
  const devices: DeviceInfo[] = [];
  const city: SeededCity = { fromMs, toMs, districts: [...new Set(PLACES.map((p) => p.district))], communities: [], points: 0 };

  for (const place of PLACES) {
    const base = { districtId: place.district, communityId: place.id };
    const zones = place.plants.map((plant, i) => ({ id: `${place.id}-z${i + 1}`, plant }));
    city.communities.push({ id: place.id, district: place.district, zones: zones.map((z) => z.id), facilities: place.facilities.map(([f]) => f) });
    for (const zone of zones) {
      for (const n of [1, 2]) devices.push(device(`${zone.id}-soil${n}`, 'soil', { ...base, zoneId: zone.id, plant: zone.plant }));
      devices.push(device(`${zone.id}-valve`, 'valve', { ...base, zoneId: zone.id }));
    }
    for (const [facility, type] of place.facilities) {
      devices.push(device(`${facility}-tilt`, 'tilt', { ...base, facilityId: facility, facilityType: type, baselinePitch: 0.5, baselineRoll: -0.3 }));
    }
    devices.push(device(`${place.id}-rain`, 'rain', base));
  }

  const zoneEvents = new Map<string, IrrigationEvent[]>();
  const rainEvents = new Map<string, IrrigationEvent[]>();
  let seq = 0;
  const previousTilt = new Map<string, { pitch: number; roll: number }>();
  for (let ts = fromMs; ts <= toMs; ts += STEP_MS) {
    const hour = (ts - fromMs) / 3_600_000;
    for (const d of devices) {
      const battery = 90 - hour - random() * 5;
      const radio = { battery, rssi: -70 - random() * 40, snr: 5 - random() * 10 };
      let fields: ReadingFields;
      if (d.kind === 'soil') {
        // The first zone of each community dries out below its band; the others stay in it.
        const dry = d.zoneId?.endsWith('-z1') ?? false;
        fields = { moisture: (dry ? 24 - hour * 1.2 : 28) + random() * 2, temperature: 18 + random() * 4, ec: 0.8 + random() * 0.2, ...radio };
      } else if (d.kind === 'valve') {
        const open = hour >= 3 && hour < 3.5;
        fields = { state: open ? 1 : 0, flow: open ? 12 + random() : 0, volume: hour * 10, ...radio };
      } else if (d.kind === 'rain') {
        fields = { rainfall: hour > 8 && hour < 10 ? random() * 3 : 0, ...radio };
      } else {
        // The pavilion and the trough lean further every hour: damaged facilities.
        const leaning = d.facilityType === 'pavilion' || d.facilityType === 'planter_trough';
        const pitch = 0.5 + (leaning ? hour * 0.6 : random() * 0.2);
        const roll = -0.3 + random() * 0.2;
        fields = { pitch, roll, shock: leaning && hour > 6 && hour < 6.3 ? 4.5 : random() * 0.1, ...radio };
      }
      const r = reading(d, ts, ++seq, fields);
      const tilt = d.kind === 'tilt' ? deriveTilt(fields.pitch ?? 0, fields.roll ?? 0, d, previousTilt.get(d.id)) : undefined;
      if (d.kind === 'tilt') previousTilt.set(d.id, { pitch: fields.pitch ?? 0, roll: fields.roll ?? 0 });
      const line = toPoint(r, d, tilt);
      if (line) lines.push(line);
      if (d.kind === 'soil' && d.zoneId) push(zoneEvents, d.zoneId, { type: 'soil', deviceId: d.id, at: ts, moisture: fields.moisture ?? 0, temperature: fields.temperature, intervalS: d.reportIntervalS });
      if (d.kind === 'rain' && d.communityId && (fields.rainfall ?? 0) > 0) push(rainEvents, d.communityId, { type: 'rain', at: ts, mm: fields.rainfall ?? 0 });
    }
  }

  // Device status, as the device-health sweep writes it: every seventh device offline.
  const offline = new Set(devices.filter((_, i) => i % 7 === 3).map((d) => d.id));
  lines.push(...deviceStatusLines(devices, {
    isOffline: (id) => offline.has(id),
    lastSeen: (id) => toMs - (offline.has(id) ? 5_400_000 : 60_000),
    battery: (id) => 80 - devices.findIndex((d) => d.id === id),
  }, toMs - 60_000));

  // Watering: the decider waters each community's dry zone, with the soil and rain readings above.
  for (const c of PLACES) {
    const zone: ZoneConfig = {
      id: `${c.id}-z1`, communityId: c.id, districtId: c.district, name: `${c.id} zone 1`, plant: c.plants[0], mode: 'automatic', soil: 'loam',
      valveId: `${c.id}-z1-valve`, windows: ['* * * * *'],
    };
    // In a minute with both, the rain gauge's report goes first.
    const events = [...(rainEvents.get(c.id) ?? []), ...(zoneEvents.get(zone.id) ?? [])];
    for (const decision of waterZone(zone, events, fromMs, toMs)) lines.push(toWateringLine(decision, zone));
  }

  // Alert transitions, one point per transition as the alert service writes them.
  const toAlertLine = createAlertPointBuilder();
  let alertId = 0;
  const alert = (community: string, district: string, kind: AlertKind, severity: Severity, subject: string, to: AlertState, at: number, message: string, by?: string) => {
    alertId += 1;
    const a: Alert = { id: alertId, kind, subject, severity, state: to, message, communityId: community, districtId: district, firstFiredAt: at, lastChangedAt: at, acknowledgedBy: by ?? null, details: null };
    lines.push(toAlertLine({ alert: a, from: to === 'firing' ? undefined : 'firing', to, at, by }));
  };
  alert('c-001', 'north', 'facility_tilt', 'warning', 'f-001-pavilion', 'firing', fromMs + 4 * 3_600_000, 'pavilion tilted 2.4° from baseline');
  alert('c-001', 'north', 'facility_tilt', 'critical', 'f-001-pavilion', 'acknowledged', fromMs + 5 * 3_600_000, 'pavilion tilted 5.1° from baseline', 'tech-7');
  alert('c-101', 'south', 'facility_impact', 'critical', 'f-101-trough', 'firing', fromMs + 6.1 * 3_600_000, 'shock 4.5 g');
  alert('c.002', 'north', 'device_offline', 'warning', 'c.002-z2-soil1', 'firing', fromMs + 2 * 3_600_000, 'no report for 45 min');
  alert('c.002', 'north', 'device_offline', 'warning', 'c.002-z2-soil1', 'resolved', fromMs + 2.5 * 3_600_000, 'reporting again');
  alert('c-101', 'south', 'battery_low', 'info', 'c-101-rain', 'firing', fromMs + 7 * 3_600_000, 'battery 18%');
  alert('c.002', 'north', 'battery_low', 'info', 'c.002-rain', 'firing', fromMs + 7.5 * 3_600_000, 'battery 19%');
  alert('c-001', 'north', 'sensor_stuck', 'warning', 'c-001-z2-soil2', 'firing', fromMs + 8 * 3_600_000, 'moisture unchanged for 6 h');

  // Ingest statistics, sampled every minute over a real registry the way app.ts runs it.
  const metrics = createMetrics({ defaults: false });
  let now = fromMs;
  const stats = createIngestStatsWriter({ registry: metrics.registry, append: async (l) => { lines.push(...l); }, now: () => now, instance: 'gs-test' });
  for (; now <= toMs; ) {
    now += 60_000;
    metrics.messagesReceived.inc({ format: 'native' }, 40 + Math.floor(random() * 10));
    metrics.readingsAccepted.inc({ kind: 'soil' }, 38);
    metrics.readingsRejected.inc({ reason: random() < 0.5 ? 'schema' : 'duplicate' }, 1 + Math.floor(random() * 3));
    metrics.pointsWritten.inc(38);
    metrics.writeDuration.observe(0.004 + random() * 0.01);
    metrics.durableLogBacklogPoints.set(Math.floor(random() * 100));
    metrics.connectedClients.set(devices.length);
    await stats.tick();
  }

  await influx.createDatabase();
  for (let i = 0; i < lines.length; i += 5000) {
    const outcome = await influx.write(lines.slice(i, i + 5000).join('\n'));
    if (outcome.kind !== 'ok') throw new Error(`seeding failed: ${JSON.stringify(outcome)}`);
  }
  // The rollups of the seeded hours and their day, by the app's own roller code, for the season panels.
  const dayMs = ROLLUP_RESOLUTIONS['1d'];
  const day = Math.floor(fromMs / dayMs) * dayMs;
  for (const step of [{ resolution: '1h', fromMs, toMs: toMs + 3_600_000 }, { resolution: '1d', fromMs: day, toMs: day + dayMs }] as const) {
    const rolled = await queryRollupLines(influx, step);
    const outcome = await influx.write(rolled.join('\n'));
    if (outcome.kind !== 'ok') throw new Error(`seeding rollups failed: ${JSON.stringify(outcome)}`);
  }
  city.points = lines.length;
  return city;
}
