import { currentDetails, type AlertSignal } from '../../contracts/alert.ts';
import type { DeviceKind, ReadingFields } from '../../contracts/reading.ts';
import type { DeviceHealthConfig } from './config.ts';
import { firingHold, holdFor, initialHold, stepHold, type HoldConfig, type HoldSpec, type HoldState } from './hold.ts';
import { batteryText, deviceCleared, deviceMessage, implausibleText, skewText, stuckText, type DeviceText } from './messages.ts';

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
    case 'sensor_stuck': return { ...state, stuckAt: { key: String(currentDetails(alert.details).value ?? ''), hold: firingHold(at) } };
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
  raise(kind: Raise['kind'], severity: Raise['severity'], text: DeviceText, details: Record<string, unknown>): void {
    const message = deviceMessage(this.ctx.kind, this.ctx.deviceId, text);
    (this.signals ??= []).push({ action: 'raise', kind, severity, subject: this.ctx.deviceId, communityId: this.ctx.communityId, districtId: this.ctx.districtId, at: this.at, message, details });
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
 * The state a reading starts from: a copy built property by property. Object spread of
 * this state (`{ ...s, stuck }`) cost 150–350 ns a reading on Node 20, most of the health
 * rules' time, against ~25 ns for this; TypeScript checks that no property is left out.
 */
const draftOf = (s: DeviceHealthState, receivedAt: number): DeviceHealthState => ({
  battery: s.battery, batteryCritical: s.batteryCritical, batteryAlert: s.batteryAlert, stuck: s.stuck, stuckAt: s.stuckAt,
  range: s.range, skew: s.skew, lastReceivedAt: receivedAt,
});

/**
 * Per-reading device health: low battery, stuck value, implausible values, clock skew.
 * Pure: (state, reading, context, config) → (state, signals); the input state is never
 * changed. Offline is the sweep's job. Every condition is held both ways (hold.ts) on the
 * server's receive time, so neither a flood of readings nor a device clock that is itself
 * wrong can rush an alert or its clearing. The detectors fill in one copy of the state
 * (the draft), each its own properties; a sub-state (a hold, a stuck run) is replaced, never changed.
 */
export function decideDeviceHealth(state: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig): { state: DeviceHealthState; signals: AlertSignal[] } {
  const emit = new Emit(ctx, r.receivedAt);
  const draft = draftOf(state, r.receivedAt);
  decideBattery(draft, r, ctx, cfg, emit);
  decideStuck(draft, r, ctx, cfg, emit);
  decidePlausible(draft, r, ctx, cfg, emit);
  decideSkew(draft, state.lastReceivedAt, r, ctx, cfg, emit);
  return { state: draft, signals: emit.signals ?? NO_SIGNALS };
}

/** Battery: held at ≤ warning (critical within it), cleared only at ≥ the clear level (hysteresis). */
function decideBattery(d: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): void {
  const battery = r.fields.battery;
  if (battery === undefined) return;
  const isLow = d.battery.phase === 'firing' ? battery < cfg.batteryClearPct : battery <= cfg.batteryWarnPct;
  const isCritical = battery <= cfg.batteryCriticalPct;
  if (!isLow && !isCritical && d.battery.phase === 'ok' && d.batteryCritical.phase === 'ok') return; // a healthy battery, nothing pending
  const hold = holdOf(cfg.battery, ctx.reportIntervalS);
  const low = stepHold(d.battery, isLow, r.receivedAt, hold);
  const critical = stepHold(d.batteryCritical, isCritical, r.receivedAt, hold);
  const alert = d.batteryAlert;
  d.battery = low.state;
  d.batteryCritical = critical.state;
  if (low.cleared) {
    emit.clear('battery_low', deviceCleared.battery(battery));
    d.batteryAlert = 'none';
    d.batteryCritical = initialHold();
    return;
  }
  if (low.state.phase !== 'firing') return;
  const wanted = critical.state.phase === 'firing' ? 'critical' : 'warning';
  if (alert === 'none' || (wanted === 'critical' && alert === 'warning')) {
    emit.raise('battery_low', wanted, batteryText(battery), { batteryPct: battery });
    d.batteryAlert = wanted;
  }
}

/** Stuck: the watched value(s) identical for N readings spanning the minimum time; cleared once it moved on (held). */
function decideStuck(d: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): void {
  const fields = cfg.stuckFields[ctx.kind];
  if (!fields) return;
  // The run continues while every watched value equals the run's: compared as numbers,
  // so the key string is built only when the value changes (number → text is the costly part).
  const prev = d.stuck;
  let same = prev?.values !== undefined && prev.values.length === fields.length;
  for (let i = 0; i < fields.length; i++) {
    const v = r.fields[fields[i]!];
    if (v === undefined) return;
    if (same && prev!.values![i] !== v) same = false;
  }
  let run: StuckRun;
  if (same) run = { count: prev!.count + 1, since: prev!.since, values: prev!.values };
  else {
    const values = fields.length === 1 ? [r.fields[fields[0]!]!] : fields.map((f) => r.fields[f]!);
    run = { count: 1, since: r.ts, values };
    if (prev && prev.values === undefined && prev.key === keyOf(run)) run = { count: prev.count + 1, since: prev.since, values };
  }
  d.stuck = run;
  if (d.stuckAt) {
    const key = keyOf(run);
    const clearHold = { raiseReadings: 1, raiseForMs: 0, clearReadings: cfg.stuckClear.clearReadings, clearForMs: cfg.stuckClear.clearForIntervals * ctx.reportIntervalS * 1000 };
    // After a restart the frozen value is unknown until the first reading: take that one.
    const frozen = d.stuckAt.key === '' ? key : d.stuckAt.key;
    const step = stepHold(d.stuckAt.hold, key === frozen, r.receivedAt, clearHold);
    if (step.cleared) {
      emit.clear('sensor_stuck', deviceCleared.stuck);
      d.stuckAt = undefined;
    } else d.stuckAt = { key: frozen, hold: step.state };
    return;
  }
  if (run.count >= cfg.stuckReadings && r.ts - run.since >= cfg.stuckMinSpanMs) {
    const key = keyOf(run);
    emit.raise('sensor_stuck', 'warning', stuckText(fields, key.split('|'), run.count, r.ts - run.since), { value: key, readings: run.count, sinceTs: run.since });
    d.stuckAt = { key, hold: firingHold(r.receivedAt) };
  }
}

/** Implausible values: inside the ingest's physical range, outside what a working probe reads (held both ways). */
function decidePlausible(d: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): void {
  const ranges = cfg.plausible[ctx.kind];
  if (!ranges) return;
  let bad: Array<{ field: string; value: number }> | undefined;
  for (const f in ranges) {
    const v = r.fields[f as keyof ReadingFields];
    const [lo, hi] = ranges[f as keyof ReadingFields]!;
    if (v !== undefined && (v < lo || v > hi)) (bad ??= []).push({ field: f, value: v });
  }
  if (!bad && d.range.phase === 'ok') return; // plausible, nothing pending
  bad ??= [];
  const step = stepHold(d.range, bad.length > 0, r.receivedAt, holdOf(cfg.implausible, ctx.reportIntervalS));
  if (step.fired) {
    const { hits, since } = step.state;
    emit.raise('sensor_out_of_range', 'warning', implausibleText(bad, hits, r.receivedAt - since), { values: bad.map((b) => `${b.field}=${b.value}`), readings: hits, sinceTs: since });
  }
  if (step.cleared) emit.clear('sensor_out_of_range', deviceCleared.plausible);
  d.range = step.state;
}

/**
 * Clock skew. A reading far in the past may be a store-and-forward replay, so only readings
 * that arrive on the device's own cadence (not in a burst after an outage) count for past
 * skew; a burst reading neither counts nor clears. Fires beyond the tolerance, clears within half of it.
 */
function decideSkew(d: DeviceHealthState, lastReceivedAt: number | undefined, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig, emit: Emit): void {
  const skew = r.ts - r.receivedAt;
  const limit = d.skew.phase === 'firing' ? cfg.skewToleranceMs / 2 : cfg.skewToleranceMs;
  const onCadence = lastReceivedAt === undefined || r.receivedAt - lastReceivedAt >= (ctx.reportIntervalS * 1000) / 2;
  const beyond = Math.abs(skew) > limit;
  if (beyond && skew < 0 && !onCadence) return;
  if (!beyond && d.skew.phase === 'ok') return; // on time, nothing pending
  const step = stepHold(d.skew, beyond, r.receivedAt, holdOf(cfg.skew, ctx.reportIntervalS));
  if (step.fired) emit.raise('clock_skew', 'info', skewText(skew), { skewS: Math.round(skew / 1000) });
  if (step.cleared) emit.clear('clock_skew', deviceCleared.skew(skew));
  d.skew = step.state;
}
