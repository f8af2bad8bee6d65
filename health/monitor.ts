import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { currentDetails, type AlertSignal, type AlertTransition } from '../contracts/alert.ts';
import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import { decideFacility, initialFacilityState, type Angles, type FacilityState } from '../rules/facility-health/decide-facility.ts';
import { DEFAULT_FACILITY_CONFIG, thresholdsFor, type FacilityRuleConfig, type FacilityThresholds } from '../rules/facility-health/thresholds.ts';
import { decideDeviceHealth, initialDeviceHealthState, seedDeviceHealth, type DeviceContext, type DeviceHealthState } from '../rules/device-health/decide-device.ts';
import { DEFAULT_DEVICE_HEALTH_CONFIG, type DeviceHealthConfig } from '../rules/device-health/config.ts';
import { initialOfflineState, markOnline, sweepOffline, type OfflineState } from '../rules/device-health/offline.ts';
import { deviceStatusLines } from './device-status-points.ts';
import { communityKey, type CommunityOwnership } from '../contracts/ownership.ts';
import { createSignalQueue, type SignalQueueDeps } from './signal-queue.ts';

/**
 * Which gateway a device reports through (the inventory's `gateway`, `devices.gateway_id`),
 * so the offline sweep can group a gateway's silent devices under its one alert.
 */
export interface GatewayPort {
  gatewayOf(deviceId: string): string | undefined;
}
/** No grouping: every silent device is alerted on its own (a monitor built without a registry). */
export const noGateways: GatewayPort = { gatewayOf: () => undefined };

/**
 * The gateway port over the device registry's in-memory index (`DeviceInfo.gatewayId`),
 * which an inventory import refreshes for every device it changes. A sweep asks it once per
 * silent device: a Map lookup, where a SQLite read of `devices.gateway_id` each (~5-20 µs)
 * would hold the event loop for a second when a whole city of 50,000 devices falls silent.
 */
export const gatewaysFromRegistry = (devices: { get(id: string): DeviceInfo | undefined }): GatewayPort => ({
  gatewayOf: (deviceId) => devices.get(deviceId)?.gatewayId,
});

export interface HealthMonitorDeps {
  clock: Clock;
  logger: Logger;
  alerts: { apply(signal: AlertSignal): Promise<unknown>; onTransition(listener: (t: AlertTransition) => void): () => void };
  devices: { list(): DeviceInfo[] };
  gateways?: GatewayPort;
  /** Stores a learned baseline (facilities table + registry refresh). */
  saveBaseline(facilityId: string, baseline: Angles): void;
  facilityConfig?: FacilityRuleConfig;
  /**
   * A facility's effective thresholds (its inventory overrides over its type's): called for
   * every tilt reading, so it must answer from memory (facility-thresholds.ts). Absent: the
   * type's thresholds from facilityConfig.
   */
  facilityThresholds?: { of(facilityId: string | undefined, type: string | undefined): FacilityThresholds };
  deviceConfig?: DeviceHealthConfig;
  /** Each sweep's `device_status` points (the durable log's append); none when absent. */
  writeStatus?: (lines: string[]) => void;
  /**
   * Clustered: the communities this node sweeps (cluster/community-ownership.ts). Absent
   * (one process): every device. Readings reach the monitor only for owned communities
   * (cluster/reading-relay.ts), so the sweep is the one place it asks.
   */
  ownership?: Pick<CommunityOwnership, 'owns' | 'gainedAt'>;
  /** The signal queue's bound, retry waits and metrics (signal-queue.ts); its defaults when absent. */
  signalQueue?: Pick<SignalQueueDeps, 'capacity' | 'retryMs' | 'retryMaxMs' | 'metrics' | 'spill'>;
}

export type HealthMonitor = ReturnType<typeof createHealthMonitor>;

export type ActiveAlert = { kind: string; subject: string; severity: string; details: Record<string, unknown> | null };

/** Each device's rule context, made once per DeviceInfo object. */
function createContextCache(): (device: DeviceInfo) => DeviceContext {
  // The registry replaces a DeviceInfo when the device changes, so a context cached per object is never stale.
  const contexts = new WeakMap<DeviceInfo, DeviceContext>();
  return (device) => {
    let ctx = contexts.get(device);
    if (!ctx) {
      ctx = { deviceId: device.id, kind: device.kind, reportIntervalS: device.reportIntervalS, communityId: device.communityId, districtId: device.districtId };
      contexts.set(device, ctx);
    }
    return ctx;
  };
}

/**
 * The detectors' memory seeded from the alerts active in SQLite: facility and device states
 * are set in their maps; the offline state is returned.
 */
function seedDetectors(
  active: ReadonlyArray<ActiveAlert>,
  state: { facilities: Map<string, FacilityState>; deviceStates: Map<string, DeviceHealthState>; offline: OfflineState },
  now: number,
): OfflineState {
  const { facilities, deviceStates } = state;
  const devices = new Set(state.offline.devices);
  const gws = new Map(state.offline.gateways);
  for (const a of active) {
    const facility = (): FacilityState => facilities.get(a.subject) ?? initialFacilityState();
    const device = (): DeviceHealthState => deviceStates.get(a.subject) ?? initialDeviceHealthState();
    switch (a.kind) {
      case 'facility_tilt': facilities.set(a.subject, { ...facility(), level: a.severity === 'critical' ? 'critical' : 'warning', candidate: a.severity === 'critical' ? 'critical' : 'warning' }); break;
      case 'facility_settlement': facilities.set(a.subject, { ...facility(), settlementRaised: true }); break;
      case 'battery_low':
      case 'sensor_stuck':
      case 'sensor_out_of_range':
      case 'clock_skew': deviceStates.set(a.subject, seedDeviceHealth(device(), a, now)); break;
      case 'device_offline': devices.add(a.subject); break;
      case 'gateway_offline': { const devicesNow = currentDetails(a.details).devices; gws.set(a.subject, Array.isArray(devicesNow) ? (devicesNow as string[]) : []); break; }
    }
  }
  return { devices, gateways: gws, gatewaysBack: new Map() };
}

const ANY_COMMUNITY = '\u0000any';

/** Signals given per community, so a gain's seeding can tell one came while it read the store. */
function createSignalTally() {
  const given = new Map<string, number>();
  return {
    count(signals: readonly AlertSignal[]): void {
      for (const s of signals) {
        // A clear names no community: counted for every one (a seeding then reads once more).
        const key = s.action === 'raise' ? communityKey(s.communityId ?? undefined) : ANY_COMMUNITY;
        given.set(key, (given.get(key) ?? 0) + 1);
      }
    },
    of: (communities: readonly string[]): number => communities.reduce((n, c) => n + (given.get(c) ?? 0), given.get(ANY_COMMUNITY) ?? 0),
  };
}

/**
 * The effectful edge of the health rules: keeps each facility's and device's detector
 * state in memory, feeds readings and sweeps through the pure deciders and hands their
 * signals to the alert service.
 */
export function createHealthMonitor(deps: HealthMonitorDeps) {
  const log = deps.logger.child({ module: 'health' });
  const facilityConfig = deps.facilityConfig ?? DEFAULT_FACILITY_CONFIG;
  const deviceConfig = deps.deviceConfig ?? DEFAULT_DEVICE_HEALTH_CONFIG;
  const facilityThresholds = deps.facilityThresholds ?? { of: (_id: string | undefined, type: string | undefined) => thresholdsFor(facilityConfig, type) };
  const gateways = deps.gateways ?? noGateways;
  const since = deps.clock.now();
  const facilities = new Map<string, FacilityState>();
  const deviceStates = new Map<string, DeviceHealthState>();
  const lastSeen = new Map<string, number>();
  const lastBattery = new Map<string, number>();
  const lastAngles = new Map<string, Angles>();
  /** Learned baselines of tilt devices not attached to a facility row (nothing to store them in). */
  const learned = new Map<string, Angles>();
  let offline = initialOfflineState();
  const contextOf = createContextCache();

  // Signals reach the alert service one at a time, in the detectors' order, however slowly;
  // held and retried while the store is away (signal-queue.ts).
  const queue = createSignalQueue({ apply: (signal) => deps.alerts.apply(signal), logger: deps.logger, ...deps.signalQueue });
  const tally = createSignalTally();
  const apply = (signals: AlertSignal[]): void => { if (signals.length > 0) { tally.count(signals); queue.push(signals); } };

  // When a facility alert is resolved (its work order closed), the detector starts afresh,
  // so a facility still out of line is flagged again after the debounce.
  deps.alerts.onTransition((t) => resetOnResolve(facilities, t));

  return {
    /** Another feature's signal (irrigation's), in the same queue as the detectors' own. */
    signal: (signal: AlertSignal): void => apply([signal]),
    /** Resolves when every signal given so far is applied (tests); waits through an outage of the store. */
    settled: (): Promise<void> => queue.settled(),
    pendingSignals: (): number => queue.pending(), // held for the store, not yet applied
    signalsFor: tally.of, // signals of these communities given so far (ownership-seed.ts reads again if one came meanwhile)
    /** A clean stop: what the store takes now is applied, the retrying ends. */
    stop: (): Promise<void> => queue.stop(),
    /**
     * After a restart the detectors' memory is empty while the store still holds active alerts: seed each detector
     * from them, so a condition that cleared meanwhile still resolves its alert, and one that persists is not raised again.
     */
    seed(active: ReadonlyArray<ActiveAlert>): void {
      offline = seedDetectors(active, { facilities, deviceStates, offline }, deps.clock.now());
    },

    /** A community lost (clustered): its detectors' memory forgotten; a later gain starts from the shared store. */
    forget(communities: readonly string[]): void {
      offline = forgetCommunities(communities, deps.devices.list(), { facilities, deviceStates, offline });
    },
    /** A community gained (clustered): its detectors seeded from its active alerts in the shared store, as at a start (ownership-seed.ts). */
    adopt(communities: readonly string[], active: ReadonlyArray<ActiveAlert>): void {
      const all = deps.devices.list();
      offline = forgetCommunities(communities, all, { facilities, deviceStates, offline });
      offline = seedDetectors(active, { facilities, deviceStates, offline }, deps.clock.now());
      const back = backSinceGain(communities, all, offline, (id) => lastSeen.get(id), deps.ownership);
      offline = back.state;
      apply(back.signals);
    },

    onReading(reading: AcceptedReading, device: DeviceInfo): void {
      lastSeen.set(device.id, Math.max(lastSeen.get(device.id) ?? 0, reading.receivedAt));
      if (reading.fields.battery !== undefined) lastBattery.set(device.id, reading.fields.battery);
      const back = markOnline(offline, device.id, reading.receivedAt);
      offline = back.state;
      if (back.signals.length > 0) apply(back.signals);

      const health = decideDeviceHealth(deviceStates.get(device.id) ?? initialDeviceHealthState(), reading, contextOf(device), deviceConfig);
      deviceStates.set(device.id, health.state);
      if (health.signals.length > 0) apply(health.signals);

      const { pitch, roll } = reading.fields;
      if (device.kind === 'tilt' && pitch !== undefined && roll !== undefined) {
        const facilityId = device.facilityId ?? device.id;
        lastAngles.set(facilityId, { pitch, roll });
        const baseline = device.baselinePitch !== undefined && device.baselineRoll !== undefined ? { pitch: device.baselinePitch, roll: device.baselineRoll } : learned.get(facilityId);
        const decision = decideFacility(facilities.get(facilityId) ?? initialFacilityState(), { pitch, roll, shock: reading.fields.shock, ts: reading.ts }, {
          facilityId, facilityType: device.facilityType, communityId: device.communityId, districtId: device.districtId, reportIntervalS: device.reportIntervalS, baseline,
          thresholds: facilityThresholds.of(device.facilityId, device.facilityType),
        }, facilityConfig);
        facilities.set(facilityId, decision.state);
        if (decision.learnedBaseline) {
          log.info({ facility: facilityId, baseline: decision.learnedBaseline }, 'facility baseline learned');
          if (device.facilityId) deps.saveBaseline(device.facilityId, decision.learnedBaseline);
          else learned.set(facilityId, decision.learnedBaseline);
        }
        apply(decision.signals);
      }
    },

    /** The offline sweep (node-cron calls it every minute). */
    sweep(): void {
      const all = deps.devices.list();
      const scope = deps.ownership ? ownedScope(deps.ownership, all, offline, (id) => lastSeen.get(id)) : undefined;
      const devices = scope?.devices ?? all;
      const result = sweepOffline(scope?.state ?? offline, {
        devices, lastSeen: scope?.lastSeen ?? ((id) => lastSeen.get(id)), gatewayOf: (id) => gateways.gatewayOf(id),
        now: deps.clock.now(), since, offlineAfterIntervals: deviceConfig.offlineAfterIntervals,
      });
      offline = scope ? scope.merge(result.state) : result.state;
      apply(result.signals);
      if (deps.writeStatus) {
        const grouped = new Set([...offline.gateways.values()].flat());
        deps.writeStatus(deviceStatusLines(devices, {
          isOffline: (id) => offline.devices.has(id) || offline.gateways.has(id) || grouped.has(id),
          lastSeen: (id) => lastSeen.get(id),
          battery: (id) => lastBattery.get(id),
        }, deps.clock.now()));
      }
    },

    /** After a calibration: forget the old baseline's levels, drift and learning. */
    resetFacility(facilityId: string): void {
      const previous = facilities.get(facilityId);
      facilities.set(facilityId, { ...initialFacilityState(), previous: previous?.previous });
      learned.delete(facilityId);
    },

    /** The latest angles of a facility, for calibrating to "as it stands now". */
    lastAngles: (facilityId: string): Angles | undefined => lastAngles.get(facilityId),
  };
}

/**
 * When a facility alert is resolved (its work order closed), its detector starts afresh, so
 * a facility still out of line is flagged again after the debounce.
 */
function resetOnResolve(facilities: Map<string, FacilityState>, t: AlertTransition): void {
  if (t.to !== 'resolved') return;
  const state = facilities.get(t.alert.subject);
  if (!state) return;
  if (t.alert.kind === 'facility_tilt') facilities.set(t.alert.subject, { ...state, level: 'normal', candidate: 'normal', candidateCount: 0 });
  if (t.alert.kind === 'facility_settlement') facilities.set(t.alert.subject, { ...state, settlementRaised: false, drift: [] });
}

/**
 * After a gain's seeding: a device of the gained communities heard here since the gain, before
 * the shared alerts were read, is back already (its clear signals).
 */
function backSinceGain(
  communities: readonly string[], all: readonly DeviceInfo[], offline: OfflineState,
  seen: (id: string) => number | undefined, ownership: Pick<CommunityOwnership, 'gainedAt'> | undefined,
): { state: OfflineState; signals: AlertSignal[] } {
  let state = offline;
  const signals: AlertSignal[] = [];
  for (const d of all) {
    const heard = seen(d.id);
    const gained = ownership?.gainedAt(d.communityId);
    if (heard === undefined || gained === undefined || heard < gained || !communities.includes(communityKey(d.communityId))) continue;
    const back = markOnline(state, d.id, heard);
    state = back.state;
    signals.push(...back.signals);
  }
  return { state, signals };
}

/** The detectors' memory of what these communities' subjects (devices, their facilities, gateways) alerted, dropped: the store says it again on a gain. */
function forgetCommunities(
  communities: readonly string[],
  all: readonly DeviceInfo[],
  state: { facilities: Map<string, FacilityState>; deviceStates: Map<string, DeviceHealthState>; offline: OfflineState },
): OfflineState {
  const keys = new Set(communities);
  const inScope = all.filter((d) => keys.has(communityKey(d.communityId)));
  const ids = new Set(inScope.map((d) => d.id));
  for (const d of inScope) {
    state.deviceStates.delete(d.id);
    // What was alerted and the hold towards it go; the baseline learning and the settlement
    // window (up to 7 days of hourly samples, which no store keeps) stay for a community regained.
    const facility = state.facilities.get(d.facilityId ?? d.id);
    if (facility) state.facilities.set(d.facilityId ?? d.id, { ...initialFacilityState(), learning: facility.learning, drift: facility.drift });
  }
  const keep = <V>(entries: Iterable<[string, V]>) => new Map([...entries].filter(([id]) => !ids.has(id)));
  return {
    devices: new Set([...state.offline.devices].filter((id) => !ids.has(id))),
    gateways: keep(state.offline.gateways),
    gatewaysBack: keep(state.offline.gatewaysBack),
  };
}

/**
 * A clustered node sweeps the devices of the communities it owns, and only its part of the
 * offline state: the rest stays as it was (this node neither clears nor raises another
 * owner's alerts) and is put back after the sweep. A community gained lately gives its
 * devices a grace: their silence counts from the takeover, not from when this node last
 * heard them (or from its start), so a new owner raises no burst of device_offline for
 * devices it simply has not heard yet.
 */
function ownedScope(ownership: Pick<CommunityOwnership, 'owns' | 'gainedAt'>, all: DeviceInfo[], offline: OfflineState, seen: (id: string) => number | undefined) {
  const communityOf = new Map(all.map((d) => [d.id, d.communityId]));
  const isMine = (id: string): boolean => ownership.owns(communityOf.get(id));
  const split = <V>(entries: Iterable<[string, V]>, mine: boolean) => [...entries].filter(([id]) => isMine(id) === mine);
  return {
    devices: all.filter((d) => ownership.owns(d.communityId)),
    state: {
      devices: new Set([...offline.devices].filter(isMine)),
      gateways: new Map(split(offline.gateways, true)),
      gatewaysBack: new Map(split(offline.gatewaysBack, true)),
    } satisfies OfflineState,
    lastSeen: (id: string): number | undefined => {
      const heard = seen(id);
      const gained = ownership.gainedAt(communityOf.get(id));
      return gained === undefined ? heard : Math.max(heard ?? gained, gained);
    },
    merge: (mine: OfflineState): OfflineState => ({
      devices: new Set([...mine.devices, ...[...offline.devices].filter((id) => !isMine(id))]),
      gateways: new Map([...mine.gateways, ...split(offline.gateways, false)]),
      gatewaysBack: new Map([...mine.gatewaysBack, ...split(offline.gatewaysBack, false)]),
    }),
  };
}
