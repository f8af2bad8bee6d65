import type { AlertTransition } from '../../../contracts/alert.ts';
import type { AlertRecord } from '../../../alerts/alert-store.ts';
import { createLogger } from '../../../lib/logger.ts';
import { startSimulation, type Simulation } from '../../../firmware-sim/simulation.ts';
import { createSimClock, realTimers, type SimClock } from '../../../firmware-sim/sim-clock.ts';
import { startClockTicks, timersOn } from '../../../lib/clock-ticks.ts';
import { ADMIN_TOKEN, eventually, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { DEVICES, FLEET, inventoryOf, MISBEHAVING } from './city.ts';

const HOUR = 3_600_000;
/** 00:00 on 15 July 2026 in the city (UTC+8): a midsummer day, seasonal watering factor 1.3. */
export const DAY_START = Date.UTC(2026, 6, 14, 16);
export const DAY_END = DAY_START + 24 * HOUR;
/** A day in 20 s. At this speed 1 ms of network or event-loop delay is 4.3 simulated seconds. */
export const ACCEL = 4_320;

export const IMPACT = { facilityId: 'c1-bench', at: 20 * HOUR, impact: { pitchDeg: 12, rollDeg: 5, shockG: 9 } };
export const OUTAGE = { communityId: 'c3', from: 9 * HOUR, to: 11 * HOUR };
/** A light afternoon shower (2 mm): rain gauges count it, below the 5 mm that skips watering. */
const SHOWER = { from: 13 * HOUR, to: 14 * HOUR, rainMmH: 2 };

export interface Message {
  topic: string;
  body: Record<string, unknown>;
  at: number;
}

export interface SimulatedDay {
  t: TestApp;
  sim: Simulation;
  clock: SimClock;
  downs: Message[];
  acks: Message[];
  /** Every `gs/{id}/status` message (the broker's online/offline and the devices' own), with its sim time. */
  statuses: Message[];
  transitions: AlertTransition[];
  /** The active alerts at the moment c3's link returned, before any of its devices could reconnect. */
  activeAtLinkReturn: AlertRecord[];
  /** What the technician did with the impact's work order during the day. */
  technician: Promise<void> | undefined;
  realMs: number;
  stop(): Promise<void>;
}

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * One simulated day of the whole system: the real app (broker, ingest, rules, alerts, API,
 * InfluxDB, SQLite) and the firmware simulator's devices share one simulated clock, held
 * while the devices connect and released for the day. The irrigation tick and timers and
 * the offline sweep run on that clock; so do the scripted events.
 */
export async function runSimulatedDay(): Promise<SimulatedDay> {
  const realStart = Date.now();
  const logger = createLogger((process.env.GS_TEST_LOG ?? 'silent') as Parameters<typeof createLogger>[0]);
  // A stall of this loaded 2-core machine counts as 5 ms at most (22 simulated seconds):
  // without it one 200 ms pause was 15 simulated minutes in which every sensor went stale.
  const clock = createSimClock({ startMs: DAY_START, accel: ACCEL, timers: realTimers, endMs: DAY_END, held: true, maxStallMs: 5 });
  const stops: Array<() => void> = [];

  const t = await startTestApp({ ...UNLIMITED }, {
    app: {
      clock: { now: () => clock.now() },
      // The network is in real time: 600 simulated seconds for an ack are ~140 real ms. Same
      // for the valve's own auto-off grace: the default 120 s are ~28 real ms, less than one
      // event-loop stall of a loaded CI machine, and the valve's safety auto-off then beat the
      // app's close (a run stopped 'valve_closed', once in CI).
      // The day's assertions are the threshold controller's (start below_low, stop reached_high); evaluate/ measures the predictive one.
      irrigation: { controller: 'threshold', ackTimeoutS: 600, autoOffGraceS: 600 },
      irrigationTime: {
        schedule: (tick) => startClockTicks(clock.after, 60_000, tick, logger, 'watering-tick'),
        timers: timersOn(clock.after),
      },
      ingestStatsIntervalMs: 500,
    },
  });

  const imported = await t.app.api.inject({ method: 'PUT', url: '/api/v1/inventory', headers: auth, payload: inventoryOf(FLEET) });
  if (imported.statusCode !== 200) throw new Error(`inventory import failed: ${imported.statusCode} ${imported.body}`);
  const credentials = new Map((imported.json() as { credentials: Array<{ deviceId: string; secret: string }> }).credentials.map((c) => [c.deviceId, c.secret]));

  const downs: Message[] = [];
  const acks: Message[] = [];
  const capture = (into: Message[]) => (topic: string, payload: Buffer) => into.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, at: clock.now() });
  await t.app.broker.subscribe('gs/+/down', capture(downs));
  await t.app.broker.subscribe('gs/+/ack', capture(acks));
  const statuses: Message[] = [];
  await t.app.broker.subscribe('gs/+/status', capture(statuses));

  // The technician on duty takes the impact's work order as soon as it is dispatched.
  const transitions: AlertTransition[] = [];
  let technician: Promise<void> | undefined;
  t.app.health.alerts.onTransition((tr) => {
    transitions.push(tr);
    if (tr.alert.kind === 'facility_impact' && tr.to === 'firing' && !technician) technician = takeWorkOrder(t, tr.alert.id);
  });

  const sim = await startSimulation({
    fleet: FLEET,
    transport: { mode: 'native', credentials, backoff: { baseMs: 100, capMs: 1_000 } },
    brokerUrl: `mqtt://127.0.0.1:${t.app.mqttPort}`,
    accel: ACCEL,
    startMs: DAY_START,
    endMs: DAY_END,
    seed: 20260715,
    logger,
    clock,
    misbehaving: MISBEHAVING,
    weatherEffect: (at) => (at >= DAY_START + SHOWER.from && at < DAY_START + SHOWER.to ? { rainMmH: SHOWER.rainMmH } : {}),
  });
  await eventually(() => (sim.connected() === DEVICES.length ? true : undefined), 20_000, 'every device connected');

  // Scripted events and the offline sweep, on the simulated clock (queued until the release).
  stops.push(clock.after(IMPACT.at, () => sim.world.impact(IMPACT.facilityId, IMPACT.impact)));
  stops.push(clock.after(OUTAGE.from, () => sim.setCommunityLink(OUTAGE.communityId, false)));
  let activeAtLinkReturn: AlertRecord[] = [];
  stops.push(clock.after(OUTAGE.to, () => {
    void t.app.health.alerts.list({ active: true }).then((active) => { activeAtLinkReturn = active; });
    sim.setCommunityLink(OUTAGE.communityId, true);
  }));
  const sweep = startClockTicks(clock.after, 5 * 60_000, () => t.app.health.monitor.sweep(), logger, 'health-sweep');
  stops.push(() => sweep.stop());

  clock.release();
  await eventually(() => (clock.ended() ? true : undefined), 120_000, 'the end of the simulated day');
  sim.stopReporting();
  await eventually(() => (sim.buffered() === 0 && sim.stats.acked === sim.stats.generated ? true : undefined), 15_000, 'device buffers drained');
  await technician;
  for (const stop of stops) stop();
  await t.app.durableLog.flush();
  await eventually(() => (t.app.durableLog.backlog().lines === 0 ? true : undefined), 15_000, 'every point shipped to InfluxDB');

  return {
    t, sim, clock, downs, acks, statuses, transitions, activeAtLinkReturn,
    technician,
    realMs: Date.now() - realStart,
    async stop() {
      for (const stop of stops) stop();
      await sim.stop();
      await t.stop();
    },
  };
}

async function takeWorkOrder(t: TestApp, alertId: number): Promise<void> {
  const list = await t.app.api.inject({ url: `/api/v1/work-orders?alertId=${alertId}`, headers: auth });
  const [wo] = list.json() as Array<{ id: number }>;
  if (!wo) throw new Error(`no work order for alert ${alertId}`);
  for (const [action, payload] of [['assign', { assignee: 'tech-wang' }], ['accept', {}]] as const) {
    const res = await t.app.api.inject({ method: 'POST', url: `/api/v1/work-orders/${wo.id}/${action}`, headers: auth, payload });
    if (res.statusCode !== 200) throw new Error(`work order ${action}: ${res.statusCode} ${res.body}`);
  }
}
