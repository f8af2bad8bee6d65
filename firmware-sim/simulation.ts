import type { Logger } from '../lib/logger.ts';
import { createRandom } from '../lib/random.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './firmware/backoff.ts';
import { createNativeFirmware, type NativeFirmware } from './firmware/native-firmware.ts';
import { createSimStats } from './firmware/stats.ts';
import { listDevices, type FleetSpec, type SimDevice } from './fleet/spec.ts';
import { DEFAULT_CLIMATE, type Climate, type WeatherEffect } from './physics/weather.ts';
import { createSimClock, realTimers, type Timers } from './sim-clock.ts';
import { createWorld } from './world.ts';

export interface SimulationOptions {
  fleet: FleetSpec;
  /** Device id → MQTT secret. Devices without one are left out (and counted). */
  credentials: ReadonlyMap<string, string>;
  brokerUrl: string;
  /** Simulated ms per real ms (1440: a day in a minute). */
  accel: number;
  /** Sim epoch ms at the start of the run. */
  startMs: number;
  seed: number;
  logger: Logger;
  climate?: Climate;
  misbehaviourShare?: number;
  weatherEffect?: (t: number) => WeatherEffect;
  backoff?: BackoffPolicy;
  jitter?: number;
  outboxCapacity?: number;
  timers?: Timers;
}

export type Simulation = ReturnType<typeof startSimulation>;

/**
 * A running city: the world's physics and one native firmware per device, all seeded.
 * Each device gets its own PRNG stream so adding a device does not change the others.
 */
export function startSimulation(o: SimulationOptions) {
  const timers = o.timers ?? realTimers;
  const clock = createSimClock({ startMs: o.startMs, accel: o.accel, timers });
  const stats = createSimStats();
  const all = listDevices(o.fleet);
  const devices = all.filter((d) => o.credentials.has(d.id));
  const world = createWorld({
    fleet: o.fleet,
    devices,
    startMs: o.startMs,
    climate: o.climate ?? DEFAULT_CLIMATE,
    rng: createRandom(o.seed),
    weatherEffect: o.weatherEffect ?? (() => ({})),
    misbehaviourShare: o.misbehaviourShare ?? 0,
  });
  const firmwares = new Map<string, NativeFirmware>();
  devices.forEach((device: SimDevice, i) => {
    firmwares.set(device.id, createNativeFirmware({
      device,
      secret: o.credentials.get(device.id)!,
      url: o.brokerUrl,
      world,
      clock,
      timers,
      rng: createRandom((o.seed * 7919 + i + 1) >>> 0),
      stats,
      logger: o.logger,
      backoff: o.backoff ?? DEFAULT_BACKOFF,
      jitter: o.jitter,
      outboxCapacity: o.outboxCapacity,
    }));
  });
  for (const f of firmwares.values()) f.start();

  return {
    clock,
    world,
    stats,
    firmwares,
    missingCredentials: all.length - devices.length,
    /** Readings waiting in device buffers. */
    buffered: (): number => [...firmwares.values()].reduce((n, f) => n + f.outboxSize(), 0),
    connected: (): number => [...firmwares.values()].filter((f) => f.connection.isConnected()).length,
    /** Stop taking readings everywhere; sessions stay up so buffers can drain. */
    stopReporting(): void {
      for (const f of firmwares.values()) f.stopReporting();
    },
    async stop(): Promise<void> {
      await Promise.all([...firmwares.values()].map((f) => f.stop()));
    },
  };
}
