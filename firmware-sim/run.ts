import type { Logger } from '../lib/logger.ts';
import { createRandom } from '../lib/random.ts';
import type { SimStats } from './firmware/stats.ts';
import type { FleetSpec } from './fleet/spec.ts';
import type { Climate } from './physics/weather.ts';
import { planScenario, scenarioWeather } from './scenarios/player.ts';
import type { Scenario } from './scenarios/schema.ts';
import { startSimulation, type Simulation, type Transport } from './simulation.ts';

export interface RunOptions {
  fleet: FleetSpec;
  transport: Transport;
  brokerUrl: string;
  accel: number;
  /** Simulated duration (ms). */
  durationMs: number;
  startMs: number;
  seed: number;
  logger: Logger;
  scenario?: Scenario;
  misbehaviourShare?: number;
  climate?: Climate;
  /** Called about every `progressEveryMs` of real time. */
  onProgress?: (p: { simElapsedMs: number; stats: SimStats; buffered: number; connected: number }) => void;
  progressEveryMs?: number;
  /** How long (real ms) to wait at the end for device buffers to drain. */
  drainMs?: number;
  signal?: AbortSignal;
}

export interface RunSummary extends SimStats {
  devices: number;
  missingCredentials: number;
  bufferedAtEnd: number;
  simulatedFrom: string;
  simulatedTo: string;
  scenarioActions: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Run a fleet (and a scenario) for a simulated duration, then drain and summarise. */
export async function runSimulation(o: RunOptions): Promise<RunSummary> {
  const scenario = o.scenario;
  const sim: Simulation = await startSimulation({
    fleet: o.fleet,
    transport: o.transport,
    brokerUrl: o.brokerUrl,
    accel: o.accel,
    startMs: o.startMs,
    endMs: o.startMs + o.durationMs,
    seed: o.seed,
    logger: o.logger,
    climate: o.climate,
    misbehaviourShare: o.misbehaviourShare ?? scenario?.misbehaviourShare ?? 0,
    weatherEffect: scenario ? (t) => scenarioWeather(scenario, o.startMs, t) : undefined,
  });
  const plan = scenario ? planScenario(scenario, o.fleet, createRandom(o.seed ^ 0x5eed)) : [];
  const cancels = plan.map((action) => sim.clock.after(action.at, () => {
    o.logger.info({ action }, 'scenario event');
    if (action.kind === 'impact') sim.world.impact(action.facilityId, { pitchDeg: action.pitchDeg, rollDeg: action.rollDeg, shockG: action.shockG });
    else if (action.kind === 'link') sim.setCommunityLink(action.communityId, action.up);
    else sim.dropAll();
  }));

  const realMs = o.durationMs / o.accel;
  const realStart = Date.now();
  const tick = o.progressEveryMs ?? 250;
  const progress = () => o.onProgress?.({ simElapsedMs: Math.min(o.durationMs, sim.clock.now() - o.startMs), stats: sim.stats, buffered: sim.buffered(), connected: sim.connected() });
  while (!o.signal?.aborted && Date.now() - realStart < realMs && !sim.clock.ended()) {
    await sleep(Math.min(tick, realMs - (Date.now() - realStart)), o.signal);
    progress();
  }
  for (const cancel of cancels) cancel();
  sim.stopReporting();
  // Links cut by the scenario come back so the buffers can drain.
  for (const c of o.fleet.communities) sim.setCommunityLink(c.id, true);
  const drainUntil = Date.now() + (o.drainMs ?? 30_000);
  while (!o.signal?.aborted && Date.now() < drainUntil && (sim.buffered() > 0 || sim.stats.acked < sim.stats.generated - sim.stats.uplinksLost)) {
    await sleep(100, o.signal);
  }
  progress();
  const summary: RunSummary = {
    ...sim.stats,
    devices: sim.devices.length,
    missingCredentials: sim.missingCredentials,
    bufferedAtEnd: sim.buffered(),
    simulatedFrom: new Date(o.startMs).toISOString(),
    simulatedTo: new Date(Math.min(sim.clock.now(), o.startMs + o.durationMs)).toISOString(),
    scenarioActions: plan.length,
  };
  await sim.stop();
  return summary;
}
