import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import { deviceTopic } from '../contracts/topics.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { decideWatering, withSoilReading } from '../rules/irrigation/decide.ts';
import { computeInputs } from '../rules/irrigation/inputs.ts';
import { IrrigationSettings } from '../rules/irrigation/settings.ts';
import { initialZoneState, type DecideContext, type Decision, type IrrigationAction, type IrrigationEvent, type ZoneIrrigationState } from '../rules/irrigation/state.ts';
import { trackReading } from '../rules/irrigation/zone-state.ts';
import type { IrrigationStore, ZoneOverride } from './store.ts';
import type { ZoneSource } from './zone-source.ts';
import { toWateringLine } from './watering-line.ts';
import { parseAck } from './parse-ack.ts';

export interface IrrigationEngineDeps {
  zones: ZoneSource;
  store: IrrigationStore;
  /** Publish a command (QoS 1) through the broker. */
  publish: (topic: string, payload: string) => Promise<void>;
  /** Points for InfluxDB, through the durable log. */
  appendLines: (lines: string[]) => Promise<void>;
  /** The alert service's port (app.ts: health.alerts.apply); each signal is also kept in the zone's own history (store.addSignal). */
  signal: (alert: AlertSignal) => void;
  clock: Clock;
  logger: Logger;
  /** Deployment-wide defaults over the built-in ones. */
  settings?: Partial<IrrigationSettings>;
  timers?: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
}

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
  const timers = deps.timers ?? { set: (fn, ms) => setTimeout(fn, ms).unref(), clear: (h) => clearTimeout(h as NodeJS.Timeout) };
  const states = store.loadStates();
  const wakeTimers = new Map<string, unknown>();
  const dirty = new Set<string>();
  const overrides = new Map<string, { override: ZoneOverride | undefined; settings: IrrigationSettings }>();
  let stopped = false;

  const effective = (zoneId: string) => {
    let cached = overrides.get(zoneId);
    if (!cached) {
      const override = store.getOverride(zoneId);
      cached = { override, settings: override?.settings ? IrrigationSettings.parse({ ...base, ...override.settings }) : base };
      overrides.set(zoneId, cached);
    }
    return cached;
  };

  const contextOf = (zoneId: string): DecideContext | undefined => {
    const zone = zones.get(zoneId);
    if (!zone) return undefined;
    const { override, settings } = effective(zoneId);
    return { now: clock.now(), settings, zone: { ...zone, band: override?.band ?? zone.band, windows: override?.windows ?? zone.windows } };
  };

  const apply = (action: IrrigationAction, ctx: DecideContext): void => {
    switch (action.type) {
      case 'command': {
        if (!action.valveId) {
          logger.error({ zoneId: ctx.zone.id, command: action.command }, 'valve command for a zone without a valve dropped');
          return;
        }
        const payload = JSON.stringify(action.command);
        logger.info({ zoneId: ctx.zone.id, valveId: action.valveId, command: action.command }, 'valve command');
        deps.publish(deviceTopic(action.valveId, 'down'), payload).catch((error: unknown) => logger.error({ err: error, valveId: action.valveId }, 'valve command publish failed'));
        return;
      }
      case 'record': {
        const d = action.decision;
        logger.info({ zoneId: d.zoneId, action: d.action, reason: d.reason, actor: d.actor, moisture: d.inputs.moisture }, 'irrigation decision');
        store.addDecision(d);
        deps.appendLines([toWateringLine(d, ctx.zone)]).catch((error: unknown) => logger.error({ err: error, zoneId: d.zoneId }, 'watering point not logged'));
        return;
      }
      case 'signal':
        store.addSignal(action.signal); // the zone's own history, whatever the alert service does with it
        try {
          deps.signal(action.signal);
        } catch (error) {
          logger.error({ err: error, signal: action.signal }, 'alert signal port failed');
        }
    }
  };

  /** Run one event through the zone's decider and apply what it returns. */
  const dispatch = (zoneId: string, event: IrrigationEvent): Decision[] => {
    if (stopped) return [];
    const ctx = contextOf(zoneId);
    if (!ctx) return [];
    const before = states.get(zoneId) ?? initialZoneState(zoneId);
    folded.delete(before);
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

  const schedule = (zoneId: string, wakeAt: number | undefined, now: number) => {
    const previous = wakeTimers.get(zoneId);
    if (previous !== undefined) timers.clear(previous);
    wakeTimers.delete(zoneId);
    if (wakeAt === undefined || stopped) return;
    const handle = timers.set(() => {
      wakeTimers.delete(zoneId);
      safeDispatch(zoneId, { type: 'tick' });
    }, Math.min(MAX_TIMER_MS, Math.max(0, wakeAt - now)));
    wakeTimers.set(zoneId, handle);
  };

  // Soil readings are folded into their zone's state as they arrive; each zone they touched
  // is evaluated once at the end of the turn. A burst of readings (a store-and-forward
  // batch, a whole group commit of the ingest) costs one evaluation per zone, not one each.
  const toEvaluate = new Set<string>();
  let evaluationScheduled = false;
  const evaluateTouched = () => {
    evaluationScheduled = false;
    const zoneIds = [...toEvaluate];
    toEvaluate.clear();
    for (const zoneId of zoneIds) safeDispatch(zoneId, { type: 'tick' });
  };
  // Zone states made by a fold that nothing else has seen yet: later folds before the
  // zone's evaluation write their sensor tracks into them in place. A copy of the zone's
  // state and its sensors for every reading (withSoilReading) cost ~400 ns a reading; this
  // way a zone is copied once per turn. Any other use of the state (an evaluation, the
  // API's status, a save) ends it, so no state handed out is changed afterwards.
  const folded = new Set<ZoneIrrigationState>();
  const foldSoil = (zoneId: string, event: Extract<IrrigationEvent, { type: 'soil' }>): void => {
    if (stopped || !zones.get(zoneId)) return;
    const before = states.get(zoneId) ?? initialZoneState(zoneId);
    if (folded.has(before)) {
      const previous = before.sensors[event.deviceId];
      const track = trackReading(previous, event);
      if (track === previous) return; // a late reading, older than what the zone holds
      before.sensors[event.deviceId] = track;
    } else {
      const after = withSoilReading(before, event);
      if (after === before) return;
      states.set(zoneId, after);
      folded.add(after);
    }
    dirty.add(zoneId);
    toEvaluate.add(zoneId);
    if (!evaluationScheduled) {
      evaluationScheduled = true;
      setImmediate(evaluateTouched);
    }
  };

  const safeDispatch = (zoneId: string, event: IrrigationEvent): Decision[] => {
    try {
      return dispatch(zoneId, event);
    } catch (error) {
      logger.error({ err: error, zoneId, event: event.type }, 'irrigation evaluation failed');
      return [];
    }
  };

  const flush = () => {
    folded.clear();
    if (dirty.size === 0) return;
    const batch = [...dirty].flatMap((id) => states.get(id) ?? []);
    dirty.clear();
    store.saveStates(batch, clock.now());
  };
  const flushTimer = setInterval(() => {
    try {
      flush();
    } catch (error) {
      logger.error({ err: error }, 'irrigation state flush failed');
    }
  }, 5_000);
  flushTimer.unref();

  return {
    /** After a restart: close every run that was in progress (the rules may then start afresh). */
    restore(): void {
      for (const [zoneId, state] of states) if (state.run) safeDispatch(zoneId, { type: 'restored' });
    },
    /** A reading accepted by the ingest (readingListeners). */
    onReading(reading: AcceptedReading, device: DeviceInfo): void {
      const f = reading.fields;
      if (device.kind === 'soil' && device.zoneId && f.moisture !== undefined) {
        foldSoil(device.zoneId, { type: 'soil', deviceId: device.id, at: reading.ts, moisture: f.moisture, temperature: f.temperature, intervalS: device.reportIntervalS });
      } else if (device.kind === 'rain' && f.rainfall !== undefined) {
        const targets = device.zoneId ? [device.zoneId] : device.communityId ? zones.listByCommunity(device.communityId).map((z) => z.id) : [];
        for (const zoneId of targets) safeDispatch(zoneId, { type: 'rain', at: reading.ts, mm: f.rainfall });
      } else if (device.kind === 'valve') {
        const zoneId = device.zoneId ?? zones.zoneOfValve(device.id);
        if (zoneId) safeDispatch(zoneId, { type: 'valve', at: reading.ts, state: f.state, flowLpm: f.flow });
      }
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
      const ctx = contextOf(zoneId);
      if (!ctx) return undefined;
      const state = states.get(zoneId) ?? initialZoneState(zoneId);
      folded.delete(state);
      return { zone: ctx.zone, settings: ctx.settings, state, inputs: computeInputs(state, ctx) };
    },
    now: (): number => clock.now(),
    /** The deployment's time zone (windows and the node-cron tick use it). */
    timezone: base.timezone,
    decisions: store.listDecisions,
    signals: store.listSignals,
    setOverride(zoneId: string, override: ZoneOverride, by: string): void {
      IrrigationSettings.parse({ ...base, ...override.settings }); // refuse an override that makes invalid settings
      store.setOverride(zoneId, override, by, clock.now());
      overrides.delete(zoneId);
      safeDispatch(zoneId, { type: 'tick' });
    },
    stop(): void {
      stopped = true;
      toEvaluate.clear(); // folded into the saved state; the next start's tick evaluates them
      clearInterval(flushTimer);
      for (const handle of wakeTimers.values()) timers.clear(handle);
      wakeTimers.clear();
      flush();
    },
  };
}
