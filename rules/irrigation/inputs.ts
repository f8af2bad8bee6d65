import { aggregateZone } from './zone-state.ts';
import { resolveBand, seasonalFactorAt } from './settings.ts';
import { isInWindow } from './windows.ts';
import { hydraulicsOf } from './water-balance.ts';
import type { DecideContext, DecisionInputs, Run, ZoneIrrigationState } from './state.ts';

export const DAY_MS = 86_400_000;

/** Everything a decision looks at, computed once per evaluation (and recorded with it). */
export function computeInputs(state: ZoneIrrigationState, ctx: DecideContext): DecisionInputs {
  const { now, settings, zone } = ctx;
  const agg = aggregateZone(Object.values(state.sensors), now, settings, state.sensorCheck?.distrusted);
  const windows = zone.windows && zone.windows.length > 0 ? zone.windows : settings.windows;
  const lookbackMs = settings.rainLookbackH * 3_600_000;
  const forecastValid = state.forecast && state.forecast.validUntil > now ? state.forecast : undefined;
  const temps = [agg.temperatureC, forecastValid?.minAirTempC].filter((t): t is number => t !== undefined);
  return {
    moisture: agg.moisture === undefined ? undefined : round(agg.moisture),
    counted: agg.counted,
    excluded: agg.excluded,
    band: resolveBand(zone, settings),
    inWindow: isInWindow(windows, now, settings.timezone),
    windows,
    rainMm: round(sumWhere(state.rain, (r) => now - r.at <= lookbackMs, (r) => r.mm)),
    forecastRainMm: forecastValid?.rainMm,
    ...(forecastValid?.et0MmDay !== undefined ? { et0MmDay: forecastValid.et0MmDay, et0From: 'forecast' as const } : state.et0 ? { et0MmDay: state.et0.mmDay, et0From: 'last_known' as const } : {}),
    temperatureC: temps.length > 0 ? Math.min(...temps) : undefined,
    budgetUsedL: round(sumWhere(state.usage, (u) => now - u.at < DAY_MS, (u) => u.volumeL)),
    // The predictive controller sizes runs to the zone, so its budget scales with the zone's area.
    budgetL: settings.controller === 'predictive' && zone.mode === 'automatic' ? Math.max(settings.dailyBudgetL, settings.dailyBudgetMm * hydraulicsOf(zone).areaM2) : settings.dailyBudgetL,
    seasonalFactor: seasonalFactorAt(now, settings),
    sinceLastRunS: state.lastRunEndAt === undefined ? undefined : Math.round((now - state.lastRunEndAt) / 1000),
    pausedUntil: state.pausedUntil !== undefined && state.pausedUntil > now ? state.pausedUntil : undefined,
  };
}

export const round = (n: number): number => Math.round(n * 100) / 100;

/** The sum of `value` over the items `keep` keeps, in order (a filter and a reduce without the array between). */
function sumWhere<T>(items: readonly T[], keep: (item: T) => boolean, value: (item: T) => number): number {
  let sum = 0;
  for (const item of items) if (keep(item)) sum += value(item);
  return sum;
}

/** Watering time of a run so far (ms), including the cycle in progress. */
export function wateredMs(run: Run, now: number): number {
  return run.wateredMs + (run.phase === 'watering' ? now - run.phaseSince : 0);
}

/** Litres from watering time, at the flow the valve reported or the nominal flow. */
export function volumeOf(ms: number, flowLpm: number): number {
  return round((ms / 60_000) * flowLpm);
}

/** Drop what no decision looks at any more, so persisted state stays small. */
export function prune(state: ZoneIrrigationState, ctx: DecideContext): ZoneIrrigationState {
  const lookbackMs = ctx.settings.rainLookbackH * 3_600_000;
  // Most evaluations drop nothing: checked before any array is copied.
  const paused = state.pausedUntil !== undefined && state.pausedUntil > ctx.now;
  if (state.rain.every((r) => ctx.now - r.at <= lookbackMs) && state.usage.every((u) => ctx.now - u.at < DAY_MS)
    && (!state.forecast || state.forecast.validUntil > ctx.now) && (paused || state.pausedUntil === undefined)) return state;
  const rain = state.rain.filter((r) => ctx.now - r.at <= lookbackMs);
  const usage = state.usage.filter((u) => ctx.now - u.at < DAY_MS);
  const forecast = state.forecast && state.forecast.validUntil > ctx.now ? state.forecast : undefined;
  return { ...state, rain, usage, forecast, pausedUntil: paused ? state.pausedUntil : undefined, pausedBy: paused ? state.pausedBy : undefined };
}
