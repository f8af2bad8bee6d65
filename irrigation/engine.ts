import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import type { MoistureBand, ZoneConfig } from '../contracts/zone.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { STALE_COMMAND_ERROR, type CommandAck } from '../contracts/commands.ts';
import { decideWatering } from '../rules/irrigation/decide.ts';
import { computeInputs } from '../rules/irrigation/inputs.ts';
import { IrrigationSettings, resolveBand } from '../rules/irrigation/settings.ts';
import { initialZoneState, type DecideContext, type Decision, type IrrigationEvent, type ZoneIrrigationState } from '../rules/irrigation/state.ts';
import { explainSettings } from '../rules/irrigation/effective-settings.ts';
import type { IrrigationStore, ZoneOverride } from './store.ts';
import type { ZoneSource } from './zone-source.ts';
import { createExecutor } from './executor.ts';
import { createWriteQueue, type WriteQueue } from './write-queue.ts';
import { createHandover } from './handover.ts';
import { createFence } from './fence.ts';
import { createSoilFold } from './soil-fold.ts';
import { parseAck } from './parse-ack.ts';
import type { LatestSoil, SoilEvent } from './latest-soil.ts';

export interface IrrigationEngineDeps {
  zones: ZoneSource;
  store: IrrigationStore;
  /** Publish a command (QoS 1) through the broker. */
  publish: (topic: string, payload: string) => Promise<void>;
  /** Points for InfluxDB, through the durable log. */
  appendLines: (lines: string[]) => Promise<void>;
  /** The alert service's port (app.ts: health.monitor.signal, which queues it to the alert service); each signal is also kept in the zone's own history (store.addSignal). */
  signal: (alert: AlertSignal) => void;
  clock: Clock;
  logger: Logger;
  /** Where stale refusals are counted (absent in tests that do not look). */
  metrics?: Pick<Metrics, 'valveStaleRefusals'>;
  /** Deployment-wide defaults over the built-in ones. */
  settings?: Partial<IrrigationSettings>;
  timers?: EngineTimers;
  /** How often batched state (readings folded since the last save) is written; default 5 s. */
  flushIntervalMs?: number;
  /**
   * Whether this node runs the community's zones (clustered: its leases, cluster/community-ownership.ts).
   * Default: every community, as one process does.
   */
  owns?: (communityId: string) => boolean;
  /** The states and overrides persisted when the engine starts (`loadPersisted`); default none. */
  persisted?: Persisted;
  /**
   * The store is shared by the nodes (PostgreSQL): a node taking a community over reads there
   * what the previous owner wrote. Then (a) a valve command is published only once the writes
   * queued before it are committed, so the state that shows a run and its pending open is in
   * the store before the valve can open, and a new owner finds every open that may have
   * reached a valve; and (b) a zone taken over is sent a close only where that state shows a
   * run. Not shared (default: the data directory's SQLite): commands go at once, as always, and
   * a zone taken over gets a close whatever this node's own store says, since the previous
   * owner's state is not in it.
   */
  sharedStore?: boolean;
  /**
   * This node's fencing token for a community (clustered with a shared store:
   * CommunityOwnership.token). Given, the zones' state is written under it and a write a newer
   * owner refused stops this node acting for the community (irrigation/fence.ts). Absent (one
   * process): no fencing.
   */
  token?: (communityId: string) => number | undefined;
  /**
   * The latest soil reading per sensor of zones this node takes over, from InfluxDB
   * (irrigation/latest-soil.ts). The previous owner writes its zones' sensor tracks every
   * flush interval, so one that died took its last readings' tracks with it; InfluxDB has
   * every acknowledged reading. Absent: the restored state only.
   */
  latestSoil?: LatestSoil;
  /** When the latest soil readings are read a second time after a takeover (a dead node's readings recovered from Redis land in InfluxDB a few seconds late); default 6 s. */
  catchUpDelayMs?: number;
}

export interface Persisted {
  states: Map<string, ZoneIrrigationState>;
  overrides: Map<string, ZoneOverride>;
}

/** What the engine starts from: every zone's persisted state and override. */
export async function loadPersisted(store: Pick<IrrigationStore, 'loadStates' | 'loadOverrides'>): Promise<Persisted> {
  return { states: await store.loadStates(), overrides: await store.loadOverrides() };
}

/**
 * Where the engine's time comes from: wake timers, the end-of-turn evaluation of folded
 * readings (`defer`, default setImmediate) and the state flush. A simulation passes its own
 * so every timer runs on its clock.
 */
export interface EngineTimers {
  set: (fn: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
  defer?: (fn: () => void) => void;
}

const realTimers: Required<EngineTimers> = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
  defer: (fn) => { setImmediate(fn); },
};

export type IrrigationEngine = ReturnType<typeof createIrrigationEngine>;

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The effectful edge around the pure decider: routes readings, acks, operator actions and
 * ticks to per-zone state, applies the actions (valve commands, records, alert signals),
 * persists the state, and wakes each zone when its decider asks to be woken.
 */
export function createIrrigationEngine(deps: IrrigationEngineDeps) {
  const { zones, store, clock, logger } = deps;
  const base = IrrigationSettings.parse(deps.settings ?? {});
  const timers = { ...realTimers, ...deps.timers };
  const states = deps.persisted?.states ?? new Map<string, ZoneIrrigationState>();
  const overrides = deps.persisted?.overrides ?? new Map<string, ZoneOverride>();
  const dirty = new Set<string>();
  const writes = createWriteQueue(logger);
  const configOf = createZoneConfig(deps.zones, overrides, base);
  const fence = createFence({ token: deps.token, communityOf: (zoneId) => zones.get(zoneId)?.communityId, store, now: () => clock.now(), logger });
  const apply = createExecutor({ ...deps, writes, isFenced: fence.isFenced, ...(deps.sharedStore ? { beforeCommand: writes.settled } : {}) });
  const owns = (communityId: string): boolean => (deps.owns?.(communityId) ?? true) && !fence.isFenced(communityId);
  let stopped = false;

  /**
   * Run one event through the zone's decider and apply what it returns. The one gate of
   * ownership: ticks, wake timers, readings, acks and operator input of a zone whose
   * community another node owns are not evaluated here (`handover` lets a run go on loss).
   */
  const dispatch = (zoneId: string, event: IrrigationEvent, handover = false): Decision[] => {
    if (stopped) return [];
    const ctx = configOf.context(zoneId, clock.now());
    // Fenced off (a newer owner refused this node's writes): not even a run let go is closed here.
    if (!ctx || fence.isFenced(ctx.zone.communityId) || (!handover && (!owns(ctx.zone.communityId) || handovers.adopting(zoneId)))) return [];
    const before = states.get(zoneId) ?? initialZoneState(zoneId);
    soil.release(before);
    const result = decideWatering(before, event, ctx);
    states.set(zoneId, result.state);
    // State that changes a run or comes with effects is written now (a restart must see it); readings are batched.
    if (result.actions.length > 0 || result.state.run !== before.run) {
      dirty.delete(zoneId);
      const state = result.state;
      writes.push('state', fence.write([state], ctx.now, fence.of(ctx.zone.communityId)), { zoneId });
    } else if (result.state !== before) dirty.add(zoneId);
    for (const action of result.actions) apply(action, ctx);
    schedule(zoneId, result.wakeAt, ctx.now);
    return result.actions.flatMap((a) => (a.type === 'record' ? [a.decision] : []));
  };

  const wake = createWakeTimers(timers, (zoneId) => safeDispatch(zoneId, { type: 'tick' }));
  const schedule = (zoneId: string, wakeAt: number | undefined, now: number) => wake.set(zoneId, stopped ? undefined : wakeAt, now);
  const safeDispatch = (zoneId: string, event: IrrigationEvent, handover = false): Decision[] => {
    try {
      return dispatch(zoneId, event, handover);
    } catch (error) {
      logger.error({ err: error, zoneId, event: event.type }, 'irrigation evaluation failed');
      return [];
    }
  };

  const soil = createSoilFold({ states, defer: timers.defer, evaluate: (zoneId) => safeDispatch(zoneId, { type: 'tick' }), markDirty: (zoneId) => dirty.add(zoneId) });

  const flush = () => {
    soil.releaseAll();
    if (dirty.size === 0) return;
    const batch = [...dirty].flatMap((id) => states.get(id) ?? []);
    dirty.clear();
    const at = clock.now();
    for (const part of fence.split(batch)) writes.push('states', fence.write(part.states, at, part.fence), { zones: part.states.length });
  };
  const handovers = createHandover({ states, overrides, store, writes, logger, sharedStore: deps.sharedStore ?? false, flush, forget: (zoneId) => configOf.forget(zoneId), dispatch: safeDispatch,
    catchUp: createCatchUp({ latestSoil: deps.latestSoil, timers, delayMs: deps.catchUpDelayMs ?? 6_000, logger, states, fold: soil.fold, mayApply: (zoneId) => { const c = zones.get(zoneId)?.communityId; return !stopped && c !== undefined && owns(c) && !handovers.adopting(zoneId); } }),
    claim: deps.token ? fence.claim : undefined, clearWake: (zoneId) => wake.set(zoneId, undefined, clock.now()), closeValve: (zoneId) => closeValve(apply, stopped ? undefined : configOf.context(zoneId, clock.now())) });
  // Shared store: overrides another node wrote reach this one within a flush interval.
  const refresh = () => handovers.refreshOverrides().catch((error: unknown) => logger.error({ err: error }, 'irrigation overrides not refreshed'));
  const flushLoop = repeat(timers, deps.flushIntervalMs ?? 5_000, () => { flush(); if (deps.sharedStore) void refresh(); }, (error) => logger.error({ err: error }, 'irrigation state flush failed'));

  return {
    /** After a restart: close every run that was in progress (the rules may then start afresh). */
    restore(): void {
      for (const [zoneId, state] of states) if (state.run) safeDispatch(zoneId, { type: 'restored' });
    },
    adopt: handovers.adopt,
    release: handovers.release,
    /** The zone's state is being read after this node took it over: its events wait (operator actions are answered 503). */
    adopting: (zoneId: string): boolean => handovers.adopting(zoneId),
    /** Whether this node runs the zone (one process: every zone it has). */
    isOwned: (zoneId: string): boolean => { const zone = zones.get(zoneId); return zone !== undefined && owns(zone.communityId); },
    /** A reading accepted by the ingest (readingListeners). */
    onReading(reading: AcceptedReading, device: DeviceInfo): void {
      if (!stopped) routeReading(reading, device, { zones, soil, dispatch: safeDispatch });
    },
    /** A message on gs/{valveId}/ack (an in-process broker subscription). */
    onAck: (topic: string, payload: Buffer): void => routeAck(topic, payload, { zones, logger, dispatch: safeDispatch, states, owns, metrics: deps.metrics }),
    /** Evaluate every zone (the node-cron schedule): windows open on minute boundaries. */
    tick(): void {
      for (const zone of zones.list()) safeDispatch(zone.id, { type: 'tick' });
    },
    /** Operator and forecast input; returns the decisions it produced. */
    dispatch: safeDispatch,
    /** The zone's current view: effective config, state and the inputs a decision would use now. */
    status(zoneId: string) {
      const ctx = configOf.context(zoneId, clock.now());
      if (!ctx) return undefined;
      const state = states.get(zoneId) ?? initialZoneState(zoneId);
      soil.release(state);
      return { zone: ctx.zone, settings: ctx.settings, state, inputs: computeInputs(state, ctx) };
    },
    /** The band the zone is watered to now (override, inventory, deployment's table or FAO-56), as decisions resolve it; undefined for a zone not watered. */
    bandOf: (zoneId: string): MoistureBand | undefined => configOf.band(zoneId, clock.now()),
    /** The zone's state as held, without evaluating anything (a feed reading it must not recurse into status). */
    stateOf: (zoneId: string) => states.get(zoneId),
    /** Each effective setting of a zone with its source (default, deployment, plant type, inventory, override). */
    effectiveSettings: (zoneId: string) => { const zone = zones.get(zoneId); return zone && explainSettings({ zone, deployment: deps.settings ?? {}, override: overrides.get(zoneId) }); },
    now: (): number => clock.now(),
    /** The deployment's time zone (windows and the node-cron tick use it). */
    timezone: base.timezone,
    ...createZoneRecords({ store, writes, overrides, base, clock, forget: configOf.forget, dispatch: safeDispatch }),
    /** Stop deciding; resolves once the last states are written. */
    async stop(): Promise<void> {
      stopped = true;
      soil.drop();
      flushLoop.stop();
      wake.clearAll();
      flush();
      await writes.settled();
      await apply.sent();
    },
  };
}

/**
 * After a takeover: the zones' latest soil readings from InfluxDB, now and once more after
 * `delayMs`, each folded in as a live reading where newer than the sensor's track here and
 * the zone still this node's (`mayApply`). Never awaited by the takeover; InfluxDB not
 * answering is logged and the zones go on from their restored state.
 */
function createCatchUp(deps: {
  latestSoil: LatestSoil | undefined; timers: Required<EngineTimers>; delayMs: number; logger: Logger; states: ReadonlyMap<string, ZoneIrrigationState>;
  fold: (zoneId: string, event: SoilEvent) => void; mayApply: (zoneId: string) => boolean;
}): ((zoneIds: readonly string[]) => void) | undefined {
  const { latestSoil, logger } = deps;
  if (!latestSoil) return undefined;
  const read = async (zoneIds: readonly string[], pass: 1 | 2): Promise<void> => {
    try {
      const found = await latestSoil(zoneIds);
      for (const { zoneId, event } of found) {
        const held = deps.states.get(zoneId)?.sensors[event.deviceId];
        // Not the restored track again (it would count as a repeat: a stuck sensor's sign).
        if (deps.mayApply(zoneId) && (!held || event.at > held.lastAt)) deps.fold(zoneId, event);
      }
      logger.debug({ zones: zoneIds.length, readings: found.length, pass }, 'zones taken over: latest soil readings read from InfluxDB');
    } catch (error) {
      logger.warn({ err: error, zones: zoneIds.length, pass }, 'zones taken over: latest soil readings not read from InfluxDB; the zones go on from their stored state');
    }
  };
  return (zoneIds) => {
    if (zoneIds.length === 0) return;
    void read(zoneIds, 1);
    deps.timers.set(() => { void read(zoneIds, 2); }, deps.delayMs);
  };
}

/** A close to the zone's valve, whatever its state says (a zone taken over whose previous owner's state this node cannot read). */
function closeValve(apply: ReturnType<typeof createExecutor>, ctx: DecideContext | undefined): void {
  if (ctx?.zone.valveId) apply({ type: 'command', valveId: ctx.zone.valveId, command: { commandId: `takeover-${ctx.now.toString(36)}`, action: 'close', issuedAt: ctx.now } }, ctx);
}

type StaleNoteDeps = {
  zones: ZoneSource; states: Map<string, ZoneIrrigationState>; owns: (communityId: string) => boolean; metrics: IrrigationEngineDeps['metrics']; logger: Logger;
};

/**
 * A valve refused a command as stale: logged and counted before the decider sees it
 * (whether it was the pending command is known only then). Every node sees every ack: the
 * zone's owner speaks for it.
 */
function noteStaleRefusal(deps: StaleNoteDeps, zoneId: string, ack: CommandAck): void {
  const zone = deps.zones.get(zoneId);
  if (!zone || !deps.owns(zone.communityId)) return;
  const pending = deps.states.get(zoneId)?.run?.pending;
  const command = pending?.commandId !== ack.commandId ? 'late' : pending.staleResent ? 'pending_again' : 'pending';
  deps.metrics?.valveStaleRefusals.inc({ command });
  if (command === 'late') deps.logger.info({ zoneId, valveId: zone.valveId, commandId: ack.commandId }, 'valve dropped a late command as stale');
  else deps.logger.warn({ zoneId, valveId: zone.valveId, commandId: ack.commandId, command }, 'valve refused the pending command as stale: its clock or another issuer\'s is off');
}

/** A valve's ack to its zone. */
function routeAck(topic: string, payload: Buffer, deps: StaleNoteDeps & { dispatch: (zoneId: string, event: IrrigationEvent) => Decision[] }): void {
  const parsed = parseAck(topic, payload);
  if (!parsed.ok) {
    deps.logger.warn({ valveId: parsed.error.valveId, reason: parsed.error.reason }, 'valve ack refused');
    return;
  }
  const { ack } = parsed.value;
  const zoneId = deps.zones.zoneOfValve(parsed.value.valveId);
  if (!zoneId) return;
  if (!ack.ok && ack.error === STALE_COMMAND_ERROR) noteStaleRefusal(deps, zoneId, ack);
  deps.dispatch(zoneId, { type: 'ack', ack });
}

/** A zone's log (decisions, signals) as the store has it, and the operator's override written there. */
function createZoneRecords(deps: {
  store: IrrigationStore; writes: WriteQueue; overrides: Map<string, ZoneOverride>; base: IrrigationSettings; clock: Clock;
  forget: (zoneId: string) => void; dispatch: (zoneId: string, event: IrrigationEvent) => Decision[];
}) {
  const { store, writes } = deps;
  return {
    /** The zone's decisions, newest first; after this node's own writes queued so far (a decision just made is listed). */
    decisions: async (zoneId: string, opts: Parameters<IrrigationStore['listDecisions']>[1]) => { await writes.settled(); return store.listDecisions(zoneId, opts); },
    signals: async (subject: string, limit: number) => { await writes.settled(); return store.listSignals(subject, limit); },
    /** An operator's override: written to the store (the error reaches the caller), then decided with at once. */
    async setOverride(zoneId: string, override: ZoneOverride, by: string): Promise<void> {
      IrrigationSettings.parse({ ...deps.base, ...override.settings }); // refuse an override that makes invalid settings
      const at = deps.clock.now();
      await writes.run(() => store.setOverride(zoneId, override, by, at));
      deps.overrides.set(zoneId, override);
      deps.forget(zoneId);
      deps.dispatch(zoneId, { type: 'tick' });
    },
  };
}

/** A zone's effective configuration: the inventory's, under the operator's override (cached until changed). */
function createZoneConfig(zones: ZoneSource, overrides: ReadonlyMap<string, ZoneOverride>, base: IrrigationSettings) {
  const cache = new Map<string, { override: ZoneOverride | undefined; settings: IrrigationSettings; source?: ZoneConfig; zone?: ZoneConfig }>();
  const effective = (zoneId: string) => {
    let cached = cache.get(zoneId);
    if (!cached) {
      const override = overrides.get(zoneId);
      cached = { override, settings: override?.settings ? IrrigationSettings.parse({ ...base, ...override.settings }) : base };
      cache.set(zoneId, cached);
    }
    return cached;
  };
  const context = (zoneId: string, now: number): DecideContext | undefined => {
    const zone = zones.get(zoneId);
    if (!zone) return undefined;
    const cached = effective(zoneId);
    // The zone under its override, made again only when the inventory's zone object changes (a copy per evaluation was garbage).
    if (cached.source !== zone) {
      cached.source = zone;
      cached.zone = { ...zone, band: cached.override?.band ?? zone.band, windows: cached.override?.windows ?? zone.windows };
    }
    return { now, settings: cached.settings, zone: cached.zone! };
  };
  return {
    context,
    /** The band decisions water the zone to (rules/irrigation/inputs.ts: resolveBand over the zone under its override). */
    band(zoneId: string, now: number): MoistureBand | undefined {
      const ctx = context(zoneId, now);
      return ctx && resolveBand(ctx.zone, ctx.settings);
    },
    forget: (zoneId: string) => { cache.delete(zoneId); },
  };
}

/** fn every ms on the injected timers, until stopped; a throw is reported and the loop goes on. */
function repeat(timers: Required<EngineTimers>, ms: number, fn: () => void, onError: (error: unknown) => void) {
  let stopped = false;
  let handle: unknown;
  const arm = () => {
    handle = timers.set(() => {
      try {
        fn();
      } catch (error) {
        onError(error);
      }
      if (!stopped) arm();
    }, ms);
  };
  arm();
  return { stop: () => { stopped = true; timers.clear(handle); } };
}

/** One wake timer per zone: the decider's `wakeAt`, replacing the zone's previous one. */
function createWakeTimers(timers: Required<EngineTimers>, onWake: (zoneId: string) => void) {
  const handles = new Map<string, unknown>();
  return {
    set(zoneId: string, wakeAt: number | undefined, now: number): void {
      const previous = handles.get(zoneId);
      if (previous !== undefined) timers.clear(previous);
      handles.delete(zoneId);
      if (wakeAt === undefined) return;
      handles.set(zoneId, timers.set(() => {
        handles.delete(zoneId);
        onWake(zoneId);
      }, Math.min(MAX_TIMER_MS, Math.max(0, wakeAt - now))));
    },
    clearAll(): void {
      for (const handle of handles.values()) timers.clear(handle);
      handles.clear();
    },
  };
}

/** A reading to the zone(s) it concerns: soil folded into its zone, rain to its zone or community, a valve's report to its zone. */
function routeReading(reading: AcceptedReading, device: DeviceInfo, deps: { zones: ZoneSource; soil: ReturnType<typeof createSoilFold>; dispatch: (zoneId: string, event: IrrigationEvent) => Decision[] }): void {
  const { zones } = deps;
  const f = reading.fields;
  if (device.kind === 'soil' && device.zoneId && f.moisture !== undefined) {
    if (!zones.get(device.zoneId)) return;
    deps.soil.fold(device.zoneId, { type: 'soil', deviceId: device.id, at: reading.ts, moisture: f.moisture, temperature: f.temperature, intervalS: device.reportIntervalS });
  } else if (device.kind === 'rain' && f.rainfall !== undefined) {
    const targets = device.zoneId ? [device.zoneId] : device.communityId ? zones.listByCommunity(device.communityId).map((z) => z.id) : [];
    for (const zoneId of targets) deps.dispatch(zoneId, { type: 'rain', at: reading.ts, mm: f.rainfall });
  } else if (device.kind === 'valve') {
    const zoneId = device.zoneId ?? zones.zoneOfValve(device.id);
    if (zoneId) deps.dispatch(zoneId, { type: 'valve', at: reading.ts, state: f.state, flowLpm: f.flow });
  }
}
