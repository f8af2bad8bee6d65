import type { Logger } from '../lib/logger.ts';
import { createRandom } from '../lib/random.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './firmware/backoff.ts';
import { createNativeFirmware, type NativeFirmware } from './firmware/native-firmware.ts';
import { createSimStats } from './firmware/stats.ts';
import { listDevices, type FleetSpec } from './fleet/spec.ts';
import type { Codec } from './lorawan/codec.ts';
import type { LorawanFormat, NetworkIdentity } from './lorawan/envelopes.ts';
import { createLoraFirmware } from './lorawan/lora-firmware.ts';
import { gatewayOf, startNetworkServer, type NetworkServer } from './lorawan/network-server.ts';
import { DEFAULT_CLIMATE, type Climate, type WeatherEffect } from './physics/weather.ts';
import { createSimClock, realTimers, type SimClock, type Timers } from './sim-clock.ts';
import { createWorld, type MisbehaviourChoice } from './world.ts';

/** Native: one MQTT session per device. LoRaWAN: one network-server service account for all. */
export type Transport =
  | { mode: 'native'; credentials: ReadonlyMap<string, string>; backoff?: BackoffPolicy; outboxCapacity?: number }
  | { mode: 'lorawan'; format: LorawanFormat; net: NetworkIdentity; codec: Codec; username?: string; password?: string; clientId?: string };

export interface SimulationOptions {
  fleet: FleetSpec;
  transport: Transport;
  brokerUrl: string;
  /** Simulated ms per real ms (1440: a day in a minute). */
  accel: number;
  /** Sim epoch ms at the start of the run. */
  startMs: number;
  /** Sim epoch ms at which devices stop reporting (the clock holds there). */
  endMs?: number;
  seed: number;
  logger: Logger;
  climate?: Climate;
  misbehaviourShare?: number;
  weatherEffect?: (t: number) => WeatherEffect;
  jitter?: number;
  timers?: Timers;
  /** A clock shared with the system under test (e.g. created held, released once devices are up). */
  clock?: SimClock;
  /** Devices that misbehave in a given way, on top of `misbehaviourShare`. */
  misbehaving?: Readonly<Record<string, MisbehaviourChoice>>;
}

export type Simulation = Awaited<ReturnType<typeof startSimulation>>;

/**
 * A running city: the world's physics and one firmware per device, all seeded. Each device
 * gets its own PRNG stream, so adding a device does not change what the others do.
 */
export async function startSimulation(o: SimulationOptions) {
  const timers = o.timers ?? realTimers;
  const clock = o.clock ?? createSimClock({ startMs: o.startMs, accel: o.accel, timers, endMs: o.endMs });
  const stats = createSimStats();
  const tr = o.transport;
  // Under LoRaWAN the network server speaks for the gateways; they are not MQTT devices.
  const all = listDevices(o.fleet).filter((d) => tr.mode === 'native' || d.kind !== 'gateway');
  const devices = tr.mode === 'native' ? all.filter((d) => tr.credentials.has(d.id)) : all;
  const world = createWorld({
    fleet: o.fleet,
    devices,
    startMs: o.startMs,
    climate: o.climate ?? DEFAULT_CLIMATE,
    rng: createRandom(o.seed),
    weatherEffect: o.weatherEffect ?? (() => ({})),
    misbehaviourShare: o.misbehaviourShare ?? 0,
    misbehaving: o.misbehaving,
  });
  const rngFor = (i: number) => createRandom((o.seed * 7919 + i + 1) >>> 0);
  const firmwares = new Map<string, NativeFirmware>();
  const lora = new Map<string, ReturnType<typeof createLoraFirmware>>();
  const gatewaysDown = new Set<string>();
  let ns: NetworkServer | undefined;

  if (tr.mode === 'native') {
    devices.forEach((device, i) => firmwares.set(device.id, createNativeFirmware({
      device, secret: tr.credentials.get(device.id)!, url: o.brokerUrl, world, clock, timers, rng: rngFor(i), stats,
      logger: o.logger, backoff: tr.backoff ?? DEFAULT_BACKOFF, jitter: o.jitter, outboxCapacity: tr.outboxCapacity,
    })));
  } else {
    devices.forEach((device, i) => lora.set(device.id, createLoraFirmware({ device, world, clock, rng: rngFor(i), stats, ns: () => ns!, jitter: o.jitter })));
    ns = await startNetworkServer({
      // Under a username, `{username}/…`: the app accepts a service account's connections only
      // with its own id or one under it (broker/authenticate.ts); Mosquitto takes any.
      url: o.brokerUrl, username: tr.username, password: tr.password, clientId: tr.clientId ?? (tr.username ? `${tr.username}/sim-${o.seed}` : `gs-sim-ns-${o.seed}`),
      format: tr.format, net: tr.net, codec: tr.codec, devices, stats, logger: o.logger,
      isGatewayUp: (gatewayId) => !gatewaysDown.has(gatewayId),
      onDownlink: (device, body) => lora.get(device.id)?.onDownlink(body),
    });
  }
  for (const f of firmwares.values()) f.start();
  for (const f of lora.values()) f.start();

  const seqOf = (id: string): number => firmwares.get(id)?.seq() ?? lora.get(id)?.seq() ?? 0;

  return {
    clock,
    world,
    stats,
    devices,
    firmwares,
    missingCredentials: all.length - devices.length,
    seqOf,
    /** Readings waiting in device buffers. */
    buffered: (): number => [...firmwares.values()].reduce((n, f) => n + f.outboxSize(), 0),
    connected: (): number => (ns ? devices.length : [...firmwares.values()].filter((f) => f.connection.isReady()).length),
    /** A community's link to the broker fails or returns (its gateway or cellular cell). */
    setCommunityLink(communityId: string, up: boolean): void {
      for (const f of firmwares.values()) if (f.device.communityId === communityId) f.connection.setReachable(up);
      if (up) gatewaysDown.delete(`gw-${communityId}`);
      else gatewaysDown.add(`gw-${communityId}`);
    },
    /** Every device session is cut at once, as a broker restart does to them. */
    dropAll(): void {
      for (const f of firmwares.values()) f.connection.drop();
    },
    /** Stop taking readings everywhere; sessions stay up so buffers can drain. */
    stopReporting(): void {
      for (const f of firmwares.values()) f.stopReporting();
      for (const f of lora.values()) f.stopReporting();
    },
    async stop(): Promise<void> {
      for (const f of lora.values()) f.stop();
      await Promise.all([...firmwares.values()].map((f) => f.stop()));
      await ns?.stop();
    },
  };
}

export { gatewayOf };
