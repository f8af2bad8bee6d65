import type { AlertSignal } from '../../contracts/alert.ts';
import type { DeviceKind, ReadingFields } from '../../contracts/reading.ts';
import type { DeviceHealthConfig } from './config.ts';
import { firingHold, holdFor, initialHold, stepHold, type HoldConfig, type HoldSpec, type HoldState } from './hold.ts';

export interface DeviceHealthState {
  /** Battery at or below the warning level (held), and the critical level (held) within it. */
  battery: HoldState;
  batteryCritical: HoldState;
  batteryAlert: 'none' | 'warning' | 'critical';
  /** The current run of identical watched values. */
  stuck: StuckRun | undefined;
  /** The value the sensor froze at while a stuck alert is up; the hold clears once it moved on. */
  stuckAt: { key: string; hold: HoldState } | undefined;
  range: HoldState;
  skew: HoldState;
  lastReceivedAt: number | undefined;
}

/**
 * A run of identical watched values. `key` names them ("21.5", or "1.2|0.4" for two
 * fields) and is built only when needed (an alert, a frozen value to compare): turning
 * numbers into text for every reading was a measurable share of the ingest.
 */
export interface StuckRun {
  key?: string;
  count: number;
  since: number;
  /** The values themselves (absent in a run made before they were kept: then `key` is). */
  values?: readonly number[];
}

const keyOf = (run: StuckRun): string => run.key ?? run.values!.join('|');

export const initialDeviceHealthState = (): DeviceHealthState => ({
  battery: initialHold(), batteryCritical: initialHold(), batteryAlert: 'none', stuck: undefined, stuckAt: undefined,
  range: initialHold(), skew: initialHold(), lastReceivedAt: undefined,
});

/** The detector state matching an alert still active in SQLite (after a restart), so it can clear. */
export function seedDeviceHealth(state: DeviceHealthState, alert: { kind: string; severity: string; details: Record<string, unknown> | null }, at: number): DeviceHealthState {
  switch (alert.kind) {
    case 'battery_low': return { ...state, battery: firingHold(at), batteryAlert: alert.severity === 'critical' ? 'critical' : 'warning' };
    case 'sensor_stuck': return { ...state, stuckAt: { key: String(alert.details?.value ?? ''), hold: firingHold(at) } };
    case 'sensor_out_of_range': return { ...state, range: firingHold(at) };
    case 'clock_skew': return { ...state, skew: firingHold(at) };
    default: return state;
  }
}

export interface DeviceContext {
  deviceId: string;
  kind: DeviceKind;
  reportIntervalS: number;
  communityId: string | undefined;
  districtId: string | undefined;
}

export interface DeviceReadingInput {
  ts: number;
  receivedAt: number;
  fields: ReadingFields;
}

type Raise = Extract<AlertSignal, { action: 'raise' }>;

/**
 * Where a decider puts its signals. One per evaluation, not a closure pair: this runs for
 * every accepted reading, and the common case (nothing to say) must allocate nothing.
 */
class Emit {
  signals: AlertSignal[] | undefined;
  private readonly ctx: DeviceContext;
  private readonly at: number;
  constructor(ctx: DeviceContext, at: number) {
    this.ctx = ctx;
    this.at = at;
  }
  raise(kind: Raise['kind'], severity: Raise['severity'], message: string, details: Record<string, unknown>): void {
    (this.signals ??= []).push({ action: 'raise', kind, severity, subject: this.ctx.deviceId, communityId: this.ctx.communityId, districtId: this.ctx.districtId, at: this.at, message: `device ${this.ctx.deviceId}: ${message}`, details });
  }
  clear(kind: AlertSignal['kind'], reason: string): void {
    (this.signals ??= []).push({ action: 'clear', kind, subject: this.ctx.deviceId, at: this.at, reason });
  }
}

const NO_SIGNALS: AlertSignal[] = [];

/** Hold configs per (spec, report interval), computed once: a device keeps its interval. */
const holdCache = new WeakMap<HoldSpec, Map<number, HoldConfig>>();
function holdOf(spec: HoldSpec, reportIntervalS: number): HoldConfig {
  let byInterval = holdCache.get(spec);
  if (!byInterval) holdCache.set(spec, (byInterval = new Map()));
  let cfg = byInterval.get(reportIntervalS);
  if (!cfg) byInterval.set(reportIntervalS, (cfg = holdFor(spec, reportIntervalS)));
  return cfg;
}

/**
 * Per-reading device health: low battery, stuck value, implausible values, clock skew.
 * Pure: (state, reading, context, config) → (state, signals). Offline is the sweep's job.
 * Every condition is held both ways (hold.ts) on the server's receive time, so neither a
 * flood of readings nor a device clock that is itself wrong can rush an alert or its clearing.
 * A detector with nothing new returns its input state, so a healthy reading costs one copy
 * of the state and one of the stuck run.
 */
export function decideDeviceHealth(state: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig): { state: DeviceHealthState; signals: AlertSignal[] } {
  const emit = new Emit(ctx, r.receivedAt);
  let next = state;
  next = decideBattery(next, r, ctx, cfg, emit);
  next = decideStuck(next, r, ctx, cfg, emit);
  next = decidePlausible(next, r, ctx, cfg, emit);
  next = decideSkew(next, state.lastReceivedAt, r, ctx, cfg, emit);
  // A detector that changed something returned a copy made in this call: ours to finish.
  if (next === state) next = { ...state, lastReceivedAt: r.receivedAt };
  else next.lastReceivedAt = r.receivedAt;
  return { state: next, signals: emit.signals ?? NO_SIGNALS };
}

/** Battery: held at ≤ warning (critical within it), cleared only at ≥ the clear level (hysteresis). */
function decideBattery(s: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): DeviceHealthState {
  const battery = r.fields.battery;
  if (battery === undefined) return s;
  const hold = holdOf(cfg.battery, ctx.reportIntervalS);
  const low = stepHold(s.battery, s.battery.phase === 'firing' ? battery < cfg.batteryClearPct : battery <= cfg.batteryWarnPct, r.receivedAt, hold);
  const critical = stepHold(s.batteryCritical, battery <= cfg.batteryCriticalPct, r.receivedAt, hold);
  if (low.state === s.battery && critical.state === s.batteryCritical && low.state.phase === 'ok') return s; // a healthy battery
  const next = { ...s, battery: low.state, batteryCritical: critical.state };
  if (low.cleared) {
    emit.clear('battery_low', `battery at ${battery} %`);
    return { ...next, batteryAlert: 'none', batteryCritical: initialHold() };
  }
  if (low.state.phase !== 'firing') return next;
  const wanted = critical.state.phase === 'firing' ? 'critical' : 'warning';
  if (s.batteryAlert === 'none' || (wanted === 'critical' && s.batteryAlert === 'warning')) {
    emit.raise('battery_low', wanted, `battery at ${battery} %`, { batteryPct: battery });
    return { ...next, batteryAlert: wanted };
  }
  return next;
}

/** Stuck: the watched value(s) identical for N readings spanning the minimum time; cleared once it moved on (held). */
function decideStuck(s: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): DeviceHealthState {
  const fields = cfg.stuckFields[ctx.kind];
  if (!fields) return s;
  // The run continues while every watched value equals the run's: compared as numbers,
  // so the key string is built only when the value changes (number → text is the costly part).
  const prev = s.stuck;
  let same = prev?.values !== undefined && prev.values.length === fields.length;
  for (let i = 0; i < fields.length; i++) {
    const v = r.fields[fields[i]!];
    if (v === undefined) return s;
    if (same && prev!.values![i] !== v) same = false;
  }
  let run: StuckRun;
  if (same) run = { count: prev!.count + 1, since: prev!.since, values: prev!.values };
  else {
    const values = fields.length === 1 ? [r.fields[fields[0]!]!] : fields.map((f) => r.fields[f]!);
    run = { count: 1, since: r.ts, values };
    if (prev && prev.values === undefined && prev.key === keyOf(run)) run = { ...run, count: prev.count + 1, since: prev.since };
  }
  if (s.stuckAt) {
    const key = keyOf(run);
    const clearHold = { raiseReadings: 1, raiseForMs: 0, clearReadings: cfg.stuckClear.clearReadings, clearForMs: cfg.stuckClear.clearForIntervals * ctx.reportIntervalS * 1000 };
    // After a restart the frozen value is unknown until the first reading: take that one.
    const frozen = s.stuckAt.key === '' ? key : s.stuckAt.key;
    const step = stepHold(s.stuckAt.hold, key === frozen, r.receivedAt, clearHold);
    if (step.cleared) {
      emit.clear('sensor_stuck', 'value changed');
      return { ...s, stuck: run, stuckAt: undefined };
    }
    return { ...s, stuck: run, stuckAt: { key: frozen, hold: step.state } };
  }
  if (run.count >= cfg.stuckReadings && r.ts - run.since >= cfg.stuckMinSpanMs) {
    const key = keyOf(run);
    emit.raise('sensor_stuck', 'warning', `${fields.join('/')} stuck at ${key.replaceAll('|', '/')} for ${run.count} readings`, { value: key, readings: run.count, sinceTs: run.since });
    return { ...s, stuck: run, stuckAt: { key, hold: firingHold(r.receivedAt) } };
  }
  return { ...s, stuck: run };
}

/** Implausible values: inside the ingest's physical range, outside what a working probe reads (held both ways). */
function decidePlausible(s: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): DeviceHealthState {
  const ranges = cfg.plausible[ctx.kind];
  if (!ranges) return s;
  let bad: string[] | undefined;
  for (const f in ranges) {
    const v = r.fields[f as keyof ReadingFields];
    const [lo, hi] = ranges[f as keyof ReadingFields]!;
    if (v !== undefined && (v < lo || v > hi)) (bad ??= []).push(`${f}=${v}`);
  }
  if (!bad && s.range.phase === 'ok') return s; // plausible, nothing pending
  bad ??= [];
  const step = stepHold(s.range, bad.length > 0, r.receivedAt, holdOf(cfg.implausible, ctx.reportIntervalS));
  if (step.fired) emit.raise('sensor_out_of_range', 'warning', `implausible ${bad.join(', ')} (${step.state.hits} implausible readings since ${new Date(step.state.since).toISOString()})`, { values: bad, readings: step.state.hits, sinceTs: step.state.since });
  if (step.cleared) emit.clear('sensor_out_of_range', 'values plausible again');
  return { ...s, range: step.state };
}

/**
 * Clock skew. A reading far in the past may be a store-and-forward replay, so only readings
 * that arrive on the device's own cadence (not in a burst after an outage) count for past
 * skew; a burst reading neither counts nor clears. Fires beyond the tolerance, clears within half of it.
 */
function decideSkew(s: DeviceHealthState, lastReceivedAt: number | undefined, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): DeviceHealthState {
  const skew = r.ts - r.receivedAt;
  const limit = s.skew.phase === 'firing' ? cfg.skewToleranceMs / 2 : cfg.skewToleranceMs;
  const onCadence = lastReceivedAt === undefined || r.receivedAt - lastReceivedAt >= (ctx.reportIntervalS * 1000) / 2;
  const beyond = Math.abs(skew) > limit;
  if (beyond && skew < 0 && !onCadence) return s;
  if (!beyond && s.skew.phase === 'ok') return s; // on time, nothing pending
  const step = stepHold(s.skew, beyond, r.receivedAt, holdOf(cfg.skew, ctx.reportIntervalS));
  if (step.fired) emit.raise('clock_skew', 'info', `clock off by ${Math.round(skew / 1000)} s`, { skewS: Math.round(skew / 1000) });
  if (step.cleared) emit.clear('clock_skew', `clock within ${Math.round(Math.abs(skew) / 1000)} s`);
  return { ...s, skew: step.state };
}
