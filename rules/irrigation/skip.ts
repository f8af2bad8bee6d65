import type { DecideContext, DecisionInputs, ZoneIrrigationState } from './state.ts';

/** Why a due watering must not happen now, checked in this order; undefined when it may. */
export function skipReason(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): string | undefined {
  const { settings } = ctx;
  if (inputs.pausedUntil !== undefined) return 'paused';
  if (inputs.temperatureC !== undefined && inputs.temperatureC <= settings.freezeC) return 'freeze';
  if (inputs.rainMm >= settings.rainSkipMm) return 'rain';
  if (inputs.forecastRainMm !== undefined && inputs.forecastRainMm >= settings.forecastSkipMm) return 'rain_forecast';
  if (ctx.zone.mode === 'manual') return undefined; // the rest concern valves
  if (inputs.sinceLastRunS !== undefined && inputs.sinceLastRunS < settings.minIntervalS) return 'min_interval';
  if (inputs.budgetUsedL >= inputs.budgetL) return 'budget';
  if (!inputs.inWindow) return 'outside_window';
  return undefined;
}
