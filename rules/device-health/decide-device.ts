import type { AlertSignal } from '../../contracts/alert.ts';
import type { DeviceKind, ReadingFields } from '../../contracts/reading.ts';
import type { DeviceHealthConfig } from './config.ts';

export interface DeviceHealthState {
  batteryAlert: 'none' | 'warning' | 'critical';
  stuck: { key: string; count: number; since: number } | undefined;
  stuckRaised: boolean;
  badCount: number;
  goodCount: number;
  rangeRaised: boolean;
  skewCount: number;
  skewRaised: boolean;
  lastReceivedAt: number | undefined;
}

export const initialDeviceHealthState = (): DeviceHealthState => ({
  batteryAlert: 'none', stuck: undefined, stuckRaised: false, badCount: 0, goodCount: 0, rangeRaised: false, skewCount: 0, skewRaised: false, lastReceivedAt: undefined,
});

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

/**
 * Per-reading device health: low battery, stuck value, implausible values, clock skew.
 * Pure: (state, reading, context, config) → (state, signals). Offline is the sweep's job.
 */
export function decideDeviceHealth(state: DeviceHealthState, r: DeviceReadingInput, ctx: DeviceContext, cfg: DeviceHealthConfig): { state: DeviceHealthState; signals: AlertSignal[] } {
  const signals: AlertSignal[] = [];
  const base = { subject: ctx.deviceId, communityId: ctx.communityId, districtId: ctx.districtId, at: r.receivedAt };
  const clear = (kind: AlertSignal['kind'], reason: string): void => { signals.push({ action: 'clear', kind, subject: ctx.deviceId, at: r.receivedAt, reason }); };
  let next: DeviceHealthState = { ...state, lastReceivedAt: r.receivedAt };

  // Battery, with hysteresis: raise at warn/critical, clear only at batteryClearPct.
  const battery = r.fields.battery;
  if (battery !== undefined) {
    const wanted = battery <= cfg.batteryCriticalPct ? 'critical' : battery <= cfg.batteryWarnPct ? 'warning' : undefined;
    if (wanted && (state.batteryAlert === 'none' || (wanted === 'critical' && state.batteryAlert === 'warning'))) {
      next.batteryAlert = wanted;
      signals.push({ action: 'raise', kind: 'battery_low', severity: wanted, ...base, message: `device ${ctx.deviceId}: battery at ${battery} %`, details: { batteryPct: battery } });
    } else if (!wanted && state.batteryAlert !== 'none' && battery >= cfg.batteryClearPct) {
      next.batteryAlert = 'none';
      clear('battery_low', `battery at ${battery} %`);
    }
  }

  // Stuck: the watched value(s) identical for N readings spanning at least the minimum time.
  const fields = cfg.stuckFields[ctx.kind];
  if (fields) {
    const values = fields.map((f) => r.fields[f]);
    if (values.every((v) => v !== undefined)) {
      const key = values.join('|');
      const stuck = state.stuck?.key === key ? { key, count: state.stuck.count + 1, since: state.stuck.since } : { key, count: 1, since: r.ts };
      next.stuck = stuck;
      if (!state.stuckRaised && stuck.count >= cfg.stuckReadings && r.ts - stuck.since >= cfg.stuckMinSpanMs) {
        next.stuckRaised = true;
        signals.push({ action: 'raise', kind: 'sensor_stuck', severity: 'warning', ...base, message: `device ${ctx.deviceId}: ${fields.join('/')} stuck at ${key.replaceAll('|', '/')} for ${stuck.count} readings`, details: { value: key, readings: stuck.count, sinceTs: stuck.since } });
      } else if (state.stuckRaised && stuck.count === 1) {
        next.stuckRaised = false;
        clear('sensor_stuck', 'value changed');
      }
    }
  }

  // Plausibility: N implausible readings in a row raise, N plausible ones in a row clear.
  const ranges = cfg.plausible[ctx.kind] ?? {};
  const bad = Object.entries(ranges).filter(([f, [lo, hi]]) => {
    const v = r.fields[f as keyof ReadingFields];
    return v !== undefined && (v < lo || v > hi);
  }).map(([f]) => `${f}=${r.fields[f as keyof ReadingFields]}`);
  next.badCount = bad.length > 0 ? state.badCount + 1 : 0;
  next.goodCount = bad.length > 0 ? 0 : state.goodCount + 1;
  if (!state.rangeRaised && next.badCount >= cfg.outOfRangeReadings) {
    next.rangeRaised = true;
    signals.push({ action: 'raise', kind: 'sensor_out_of_range', severity: 'warning', ...base, message: `device ${ctx.deviceId}: implausible ${bad.join(', ')}`, details: { values: bad } });
  } else if (state.rangeRaised && next.goodCount >= cfg.outOfRangeReadings) {
    next.rangeRaised = false;
    clear('sensor_out_of_range', 'values plausible again');
  }

  // Clock skew. A reading far in the past may be a store-and-forward replay, so only readings
  // that arrive on the device's own cadence (not in a burst after an outage) count for past skew.
  const skew = r.ts - r.receivedAt;
  const onCadence = state.lastReceivedAt === undefined || r.receivedAt - state.lastReceivedAt >= (ctx.reportIntervalS * 1000) / 2;
  const skewed = Math.abs(skew) > cfg.skewToleranceMs && (skew > 0 || onCadence);
  if (skewed) next.skewCount = state.skewCount + 1;
  else if (onCadence || skew > 0 || Math.abs(skew) <= cfg.skewToleranceMs) next.skewCount = 0;
  if (!state.skewRaised && next.skewCount >= cfg.skewReadings) {
    next.skewRaised = true;
    signals.push({ action: 'raise', kind: 'clock_skew', severity: 'info', ...base, message: `device ${ctx.deviceId}: clock off by ${Math.round(skew / 1000)} s`, details: { skewS: Math.round(skew / 1000) } });
  } else if (state.skewRaised && Math.abs(skew) <= cfg.skewToleranceMs / 2) {
    next.skewRaised = false;
    next.skewCount = 0;
    clear('clock_skew', `clock within ${Math.round(Math.abs(skew) / 1000)} s`);
  }
  return { state: next, signals };
}
