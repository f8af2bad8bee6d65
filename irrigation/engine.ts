import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import type { MoistureBand, ZoneConfig } from '../contracts/zone.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { decideWatering } from '../rules/irrigation/decide.ts';
import { computeInputs } from '../rules/irrigation/inputs.ts';
import { IrrigationSettings, resolveBand } from '../rules/irrigation/settings.ts';
import { initialZoneState, type DecideContext, type Decision, type IrrigationEvent, type ZoneIrrigationState } from '../rules/irrigation/state.ts';
import { explainSettings } from '../rules/irrigation/effective-settings.ts';
import type { IrrigationStore, ZoneOverride } from './store.ts';
import type { ZoneSource } from './zone-source.ts';
import { createExecutor } from './executor.ts';
import { createSoilFold } from './soil-fold.ts';
import { parseAck } from './parse-ack.ts';

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
  const states = store.loadStates();
  const dirty = new Set<string>();
  const configOf = createZoneConfig(deps, base);
  const apply = createExecutor(deps);
  const owns = deps.owns ?? (() => true);
  let stopped = false;

  /**
   * Run one event through the zone's decider and apply what it returns. The one gate of
   * ownership: ticks, wake timers, readings, acks and operator input of a zone whose
   * community another node owns are not evaluated here (`handover` lets a run go on loss).
   */
  const dispatch = (zoneId: string, event: IrrigationEvent, handover = false): Decision[] => {
    if (stopped) return [];
    const ctx = configOf.context(zoneId, clock.now());
    if (!ctx || (!handover && !owns(ctx.zone.communityId))) return [];
    const before = states.get(zoneId) ?? initialZoneState(zoneId);
    soil.release(before);
    const result = decideWatering(before, event, ctx);
    states.set(zoneId, result.state);
    // State that changes a run or comes with effects is written now (a restart must see it); readings are batched.
    if (result.actions.length > 0 || result.state.run !== before.run) {
      dirty.delete(zoneId);
      store.saveStates([result.state], ctx.now);
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
    store.saveStates(batch, clock.now());
  };
  const flushLoop = repeat(timers, deps.flushIntervalMs ?? 5_000, flush, (error) => logger.error({ err: error }, 'irrigation state flush failed'));

  return {
    /** After a restart: close every run that was in progress (the rules may then start afresh). */
    restore(): void {
      for (const [zoneId, state] of states) if (state.run) safeDispatch(zoneId, { type: 'restored' });
    },
    ...createHandover({ states, store, clock, logger, apply, flush, dispatch: safeDispatch, clearWake: (zoneId) => wake.set(zoneId, undefined, clock.now()),
      context: (zoneId) => (stopped ? undefined : configOf.context(zoneId, clock.now())) }),
    /** Whether this node runs the zone (one process: every zone it has). */
    isOwned: (zoneId: string): boolean => { const zone = zones.get(zoneId); return zone !== undefined && owns(zone.communityId); },
    /** A reading accepted by the ingest (readingListeners). */
    onReading(reading: AcceptedReading, device: DeviceInfo): void {
      if (!stopped) routeReading(reading, device, { zones, soil, dispatch: safeDispatch });
    },
    /** A message on gs/{valveId}/ack (an in-process broker subscription). */
    onAck(topic: string, payload: Buffer): void {
      const parsed = parseAck(topic, payload);
      if (!parsed.ok) {
        logger.warn({ valveId: parsed.error.valveId, reason: parsed.error.reason }, 'valve ack refused');
        return;
      }
      const zoneId = zones.zoneOfValve(parsed.value.valveId);
      if (zoneId) safeDispatch(zoneId, { type: 'ack', ack: parsed.value.ack });
    },
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
    effectiveSettings: (zoneId: string) => { const zone = zones.get(zoneId); return zone && explainSettings({ zone, deployment: deps.settings ?? {}, override: store.getOverride(zoneId) }); },
    now: (): number => clock.now(),
    /** The deployment's time zone (windows and the node-cron tick use it). */
    timezone: base.timezone,
    decisions: store.listDecisions,
    signals: store.listSignals,
    setOverride(zoneId: string, override: ZoneOverride, by: string): void {
      IrrigationSettings.parse({ ...base, ...override.settings }); // refuse an override that makes invalid settings
      store.setOverride(zoneId, override, by, clock.now());
      configOf.forget(zoneId);
      safeDispatch(zoneId, { type: 'tick' });
    },
    stop(): void {
      stopped = true;
      soil.drop();
      flushLoop.stop();
      wake.clearAll();
      flush();
    },
  };
}

/** A zone's effective configuration: the inventory's, under the operator's override (cached until changed). */
function createZoneConfig(deps: Pick<IrrigationEngineDeps, 'zones' | 'store'>, base: IrrigationSettings) {
  const overrides = new Map<string, { override: ZoneOverride | undefined; settings: IrrigationSettings; source?: ZoneConfig; zone?: ZoneConfig }>();
  const effective = (zoneId: string) => {
    let cached = overrides.get(zoneId);
    if (!cached) {
      const override = deps.store.getOverride(zoneId);
      cached = { override, settings: override?.settings ? IrrigationSettings.parse({ ...base, ...override.settings }) : base };
      overrides.set(zoneId, cached);
    }
    return cached;
  };
  const context = (zoneId: string, now: number): DecideContext | undefined => {
    const zone = deps.zones.get(zoneId);
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
    forget: (zoneId: string) => { overrides.delete(zoneId); },
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

interface HandoverDeps {
  states: Map<string, ZoneIrrigationState>;
  store: Pick<IrrigationStore, 'loadStates'>;
  clock: Clock;
  logger: Logger;
  apply: ReturnType<typeof createExecutor>;
  flush: () => void;
  /** The zone's context; undefined once the engine stopped or for an unknown zone. */
  context: (zoneId: string) => DecideContext | undefined;
  dispatch: (zoneId: string, event: IrrigationEvent, handover?: boolean) => Decision[];
  clearWake: (zoneId: string) => void;
}

/** Zones changing hands between nodes (clustered mode: their community gained or lost). */
function createHandover(deps: HandoverDeps) {
  const { states, store, logger } = deps;
  return {
    /**
     * This node took the zones over (clustered: it gained their community). Each zone's
     * state is read again from the store (the last owner's, once the store is shared), a
     * run in progress there is closed as after a restart, and a zone with no run known
     * gets a close anyway: the previous owner may have had its valve open when it died
     * (the valve's auto-off bounds the water regardless).
     */
    adopt(zoneIds: readonly string[]): void {
      if (zoneIds.length === 0) return;
      const persisted = store.loadStates(); // once per change of hands, not per zone
      for (const zoneId of zoneIds) {
        const stored = persisted.get(zoneId);
        if (stored) states.set(zoneId, stored);
        else states.delete(zoneId);
        if (stored?.run) {
          deps.dispatch(zoneId, { type: 'restored' });
          continue;
        }
        const ctx = deps.context(zoneId);
        if (!ctx?.zone.valveId) continue;
        logger.info({ zoneId, valveId: ctx.zone.valveId }, 'zone taken over: valve closed in case the previous owner left it open');
        deps.apply({ type: 'command', valveId: ctx.zone.valveId, command: { commandId: `takeover-${ctx.now.toString(36)}`, action: 'close', issuedAt: ctx.now } }, ctx);
      }
    },
    /** Another node takes the zones over: no run left open by this one (closed as after a restart), no wake timer left. */
    release(zoneIds: readonly string[]): void {
      for (const zoneId of zoneIds) {
        if (states.get(zoneId)?.run) deps.dispatch(zoneId, { type: 'restored' }, true);
        deps.clearWake(zoneId);
      }
      deps.flush();
    },
  };
}
