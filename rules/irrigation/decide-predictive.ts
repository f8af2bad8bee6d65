import { record } from './actions.ts';
import { skipReason } from './skip.ts';
import { startRun } from './decide-run.ts';
import { learnDrying, settleResponse } from './learn.ts';
import { round } from './inputs.ts';
import { dryingRate, etShare, hydraulicsOf, physicalPointsPerL, targetOf } from './water-balance.ts';
import { nextWindowStart } from './windows.ts';
import type { DecideContext, DecisionInputs, IrrigationAction, ZoneIrrigationState } from './state.ts';

type Out = { state: ZoneIrrigationState; actions: IrrigationAction[] };

const DAY_MS = 86_400_000;
/** A run carries the zone to the next chance to water with this share of the drying until then to spare. */
const CARRY_RESERVE = 0.25;
const clockFormat = new Map<string, Intl.DateTimeFormat>();
const hhmm = (t: number, timezone: string): string => {
  let f = clockFormat.get(timezone);
  if (!f) clockFormat.set(timezone, (f = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', month: 'short', day: 'numeric' })));
  return f.format(t);
};

/**
 * The predictive controller for an automatic zone without a run (settings.controller =
 * predictive). Predict, don't wait for the crossing: with the zone's drying rate (learned from
 * its own readings, Kc × ET0 until then) and the rain forecast, will the moisture a day from
 * now still be above low + margin? If not, and nothing says skip (the same skips as the
 * threshold rules: pause, freeze, rain, forecast rain, minimum interval, budget, window), water
 * now, for as long as the zone's learned response per litre says it takes to reach the target
 * (80 % up the band, never past field capacity + 1): a run that lands inside the band rather
 * than one that stops on a fixed cap.
 */
export function considerPredictive(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): Out {
  const { settings, zone, now } = ctx;
  let s = learnDrying(settleResponse(state, inputs), ctx, inputs);
  if (!inputs.inWindow && s.skipHold) s = { ...s, skipHold: undefined };
  const m = inputs.moisture;
  if (m === undefined) return { state: s, actions: [] }; // no sensor counts: never water blind
  const { low } = inputs.band;
  const h = hydraulicsOf(zone);
  const drying = dryingRate(zone, s.learn, inputs.et0MmDay);
  const dryPerDay = Math.max(0.1, drying.perDay);
  // Forecast rain, 80 % of it taken as soaking in (FAO-56's effective rain for light showers).
  const rainPoints = inputs.forecastRainMm !== undefined ? (0.8 * inputs.forecastRainMm * 100) / h.rootDepthMm : 0;
  // Until the next chance to water: the next window's start (a morning window must carry the zone through the day's ET; an evening one, through a night).
  const nextChance = nextWindowStart(inputs.windows, now, settings.timezone) ?? now + DAY_MS;
  const share = Math.max(0.1, etShare(now, Math.max(nextChance, now + settings.minIntervalS * 1000), settings.timezone));
  const predicted = m - dryPerDay * share + rainPoints;
  const fill = round(targetOf(inputs.band, zone.soil, settings.targetShare));
  // Rain on its way: aim at the low itself, with no margin and no reserve; what the rain brings then fills room
  // under field capacity instead of draining below the roots (a soil held higher drains more of every shower).
  const rainAhead = inputs.forecastRainMm !== undefined && inputs.forecastRainMm >= settings.rainAimMm;
  // A narrow band (sand: field capacity a few points over the low) gets a margin to match.
  const margin = rainAhead ? 0 : Math.min(settings.marginPoints, 0.25 * (fill - low));
  // Aim only as high as carries the zone to the next chance above low + margin, with a quarter of that drying to spare:
  // what stays below field capacity is room for the next rain, which then soaks in instead of draining away.
  const carry = round(low + margin + (1 + (rainAhead ? 0 : CARRY_RESERVE)) * dryPerDay * share);
  const target = round(Math.min(fill, Math.max(carry, low + margin + 0.5)));
  if (predicted >= low + margin) {
    return { state: s.dryingSince !== undefined || s.lastSkip !== undefined ? { ...s, dryingSince: undefined, lastSkip: undefined } : s, actions: [] };
  }
  if (s.dryingSince === undefined) s = { ...s, dryingSince: now };
  const reason = skipReason(s, ctx, inputs);
  // A zone waiting for its window is evaluated at every reading: the explanation (a crossing time scanned over two days, clock formats) is built only when recorded.
  if ((reason && s.lastSkip === reason) || (!reason && s.skipHold)) return { state: s, actions: [] };
  const crossAt = crossingTime(m - low, dryPerDay, now, settings.timezone);
  const forecast = `predicted ${round(predicted)} % at the next window (${hhmm(nextChance, settings.timezone)}), ${crossAt === undefined ? `below ${low} %` : `crossing ${low} % at ${hhmm(crossAt, settings.timezone)}`} (drying ${round(dryPerDay)} points/day: ${drying.how()}${inputs.et0From === 'last_known' ? ' (last known)' : ''}${rainPoints > 0 ? `, forecast rain +${round(rainPoints)}` : ''})`;
  if (reason) {
    return { state: { ...s, lastSkip: reason }, actions: [record(ctx, { ...inputs, why: `${forecast}; not now: ${reason}` }, 'skip', reason)] };
  }
  if (s.skipNext) {
    const by = s.skipNext.by;
    return { state: { ...s, skipNext: undefined, skipHold: true, lastSkip: 'operator_skip' }, actions: [record(ctx, { ...inputs, why: forecast }, 'skip', 'operator_skip', { actor: by })] };
  }
  const deficit = Math.max(0.5, target - m);
  const perL = s.learn?.pointsPerL ?? physicalPointsPerL(zone);
  const litres = deficit / perL;
  const durationS = Math.round(Math.min(settings.maxPredictiveRunS, (litres / h.flowLpm) * 60));
  const why = `${forecast}; ${Math.round(durationS / 60)} min at ${h.flowLpm} L/min ≈ ${Math.round(litres)} L ≈ +${round(deficit)} points to ${target} % (${target < fill ? `enough to reach ${hhmm(nextChance, settings.timezone)} ${rainAhead ? `at the low, ${inputs.forecastRainMm} mm of rain forecast fills the rest` : 'with a quarter to spare'}; room left for rain under ${fill} %` : `the most a run aims at, field capacity − 1`}; ${s.learn?.pointsPerL === undefined ? 'response from area and root depth' : 'learned response'})`;
  return startRun(s, ctx, { ...inputs, why }, { reason: 'predicted_below_low', sensorDriven: true, durationS, target });
}

/** When `room` points above the low are used up at `dryPerDay` following the day's ET curve (undefined: already below, or not within two days). */
function crossingTime(room: number, dryPerDay: number, now: number, timezone: string): number | undefined {
  if (room <= 0) return undefined;
  const step = 15 * 60_000;
  for (let t = now + step; t <= now + 2 * DAY_MS; t += step) {
    if (dryPerDay * etShare(now, t, timezone) >= room) return t;
  }
  return undefined;
}
