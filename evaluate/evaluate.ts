import type { Inventory } from '../contracts/inventory.ts';
import { createRandom } from '../lib/random.ts';
import { IrrigationSettings } from '../rules/irrigation/settings.ts';
import { summarize, type Summary, type ZoneResult } from './metrics.ts';
import { scenario as makeScenario, type ScenarioName } from './scenarios.ts';
import { CONTROLLERS, FAULT_ALERT, faultPlan, simulate, type ControllerName, type Fault, type SimulateResult } from './simulate.ts';
import type { EvalZone } from './zones.ts';
import { spreadZones } from './zones.ts';
import type { Decision } from '../rules/irrigation/state.ts';

export interface EvaluateOptions {
  inventory: Inventory;
  scenario: ScenarioName;
  days?: number;
  /** Every automatic zone, or the first n (spread over the city: every k-th). */
  zones?: number;
  seed: number;
  settings?: Partial<IrrigationSettings>;
  onProgress?: (controller: ControllerName, day: number, days: number) => void;
}

export interface Evaluation {
  scenario: { name: ScenarioName; description: string; start: string; days: number };
  seed: number;
  runSeconds: number;
  summary: Record<ControllerName, Summary>;
  zones: Record<ControllerName, ZoneResult[]>;
  infeasible: Array<{ zoneId: string; why: string }>;
  marginal: Array<{ zoneId: string; why: string }>;
  decisions: Decision[];
  signals: Record<string, number>;
  /** The faults scenario: each kind of injected sensor fault, and how many of them raised the alert that tells of it. */
  faults?: FaultTally;
  /** The goal's checks, each with what was measured. */
  goals: Array<{ goal: string; met: boolean; measured: string }>;
}

/** Run the controller and both timers over one scenario on the same world, and judge the goal. */
export async function evaluate(o: EvaluateOptions): Promise<Evaluation> {
  const started = performance.now();
  const settings = IrrigationSettings.parse(o.settings ?? {});
  const { zones, fleet } = spreadZones(o.inventory, settings, o.zones);
  const scenario = makeScenario(o.scenario, createRandom(o.seed), o.days);
  const traceZones = new Set(sampleZones(zones.map((z) => ({ id: z.config.id, key: `${z.config.plant}/${z.config.soil}` }))));
  const explainZones = new Set([...traceZones].slice(0, 3));
  const results = {} as Record<ControllerName, SimulateResult>;
  for (const name of CONTROLLERS) {
    results[name] = await simulate(name, {
      zones, fleet, scenario, seed: o.seed, settings: o.settings ?? {}, traceZones, explainZones,
      onDay: (d) => o.onProgress?.(name, d, scenario.days),
    });
  }
  const summary = Object.fromEntries(CONTROLLERS.map((n) => [n, summarize(results[n].rows)])) as Record<ControllerName, Summary>;
  return {
    scenario: { name: scenario.name, description: scenario.description, start: new Date(scenario.startMs).toISOString(), days: scenario.days },
    seed: o.seed,
    runSeconds: Math.round((performance.now() - started) / 100) / 10,
    summary,
    zones: Object.fromEntries(CONTROLLERS.map((n) => [n, results[n].rows])) as Record<ControllerName, ZoneResult[]>,
    infeasible: zones.flatMap((z) => (z.infeasible ? [{ zoneId: z.config.id, why: z.infeasible }] : [])),
    marginal: zones.flatMap((z) => (z.marginal ? [{ zoneId: z.config.id, why: z.marginal }] : [])),
    decisions: results.controller.decisions,
    signals: results.controller.signals,
    ...(scenario.faults ? { faults: tallyFaults(zones, results.controller.raised, results.controller.rows) } : {}),
    goals: judge(scenario.name, summary),
  };
}

export interface FaultTally {
  /** Per kind of fault: how many, how many raised their alert, and the controller's zone-hours in band / below low / above high over those zones with a feasible band. */
  byKind: Record<Fault, { injected: number; raised: number; alert: string; inBandPct: number; belowLowPct: number; aboveHighPct: number }>;
  /** Sensor-fault alerts about zones and devices with no fault injected. */
  falseAlarms: number;
}

const SENSOR_FAULT_KINDS = new Set(['sensor_stuck', 'sensor_out_of_range', 'sensor_disagreement', 'device_offline']);

/** Each injected fault against the alerts raised: found when the alert that tells of it names its zone or device. */
function tallyFaults(zones: EvalZone[], raised: SimulateResult['raised'], rows: ZoneResult[]): FaultTally {
  const plan = faultPlan(zones);
  const hours = (f: Fault, pick: (r: ZoneResult) => number): number => {
    const of = rows.filter((r) => !r.infeasible && plan.get(`${r.zoneId}-s1`) === f);
    const total = of.reduce((n, r) => n + r.hours, 0);
    return total > 0 ? Math.round((1000 * of.reduce((n, r) => n + pick(r), 0)) / total) / 10 : Number.NaN;
  };
  const byKind = Object.fromEntries((Object.keys(FAULT_ALERT) as Fault[]).map((f) => [f, {
    injected: 0, raised: 0, alert: FAULT_ALERT[f].kind,
    inBandPct: hours(f, (r) => r.inBandH), belowLowPct: hours(f, (r) => r.belowLowH), aboveHighPct: hours(f, (r) => r.aboveHighH),
  }])) as FaultTally['byKind'];
  const seen = new Set(raised.map((r) => `${r.kind}\u0000${r.subject}`));
  const faulty = new Set<string>();
  for (const [deviceId, fault] of plan) {
    const zoneId = deviceId.replace(/-s1$/, '');
    faulty.add(deviceId).add(zoneId);
    const alert = FAULT_ALERT[fault];
    byKind[fault].injected++;
    if (seen.has(`${alert.kind}\u0000${alert.subject === 'zone' ? zoneId : deviceId}`)) byKind[fault].raised++;
  }
  const falseAlarms = raised.filter((r) => SENSOR_FAULT_KINDS.has(r.kind) && !faulty.has(r.subject)).length;
  return { byKind, falseAlarms };
}

/** One zone of each plant/soil pair (the charts' traces), at most eight. */
function sampleZones(zones: Array<{ id: string; key: string }>): string[] {
  const seen = new Map<string, string>();
  for (const z of zones) if (!seen.has(z.key)) seen.set(z.key, z.id);
  return [...seen.values()].slice(0, 8);
}

/** The goals of issue 14, per scenario. */
export function judge(name: ScenarioName, s: Record<ControllerName, Summary>): Evaluation['goals'] {
  const c = s.controller;
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((100 * a) / b) / 100 : Number.NaN);
  const goals: Evaluation['goals'] = [];
  if (name === 'drought') {
    goals.push({ goal: '≥ 95 % of zone-hours in band', met: c.inBandPct >= 95, measured: `${c.inBandPct} %` });
    goals.push({ goal: 'no zone-hour at wilting point', met: c.wiltingZoneHours === 0, measured: `${c.wiltingZoneHours} zone-hours` });
    goals.push({ goal: 'water ≤ the peak timer', met: c.waterL <= s['peak-timer'].waterL, measured: `${ratio(c.waterL, s['peak-timer'].waterL)} × the peak timer` });
  } else if (name === 'season') {
    goals.push({ goal: '≥ 95 % of zone-hours in band', met: c.inBandPct >= 95, measured: `${c.inBandPct} %` });
    goals.push({ goal: '≥ 30 % less water than the peak timer', met: c.waterL <= 0.7 * s['peak-timer'].waterL, measured: `${ratio(c.waterL, s['peak-timer'].waterL)} × the peak timer` });
    goals.push({ goal: 'less water than the ET timer', met: c.waterL < s['et-timer'].waterL, measured: `${ratio(c.waterL, s['et-timer'].waterL)} × the ET timer` });
  } else if (name === 'faults') {
    goals.push({ goal: 'no flooding: time above high no more than the peak timer\'s', met: c.aboveHighPct <= s['peak-timer'].aboveHighPct, measured: `${c.aboveHighPct} % above high (peak timer ${s['peak-timer'].aboveHighPct} %)` });
    goals.push({ goal: 'no starving: no zone-hour at wilting point', met: c.wiltingZoneHours === 0, measured: `${c.wiltingZoneHours} zone-hours` });
  }
  return goals;
}
