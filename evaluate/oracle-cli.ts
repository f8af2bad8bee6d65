import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { COMMON_ARGS, readCli, readEvaluationInventory } from './cli-args.ts';
import { createRandom } from '../lib/random.ts';
import { IrrigationSettings } from '../rules/irrigation/settings.ts';
import { summarize, type Summary, type ZoneResult } from './metrics.ts';
import { oracleFrontier, waterAt, type OraclePoint } from './oracle.ts';
import { scenario as makeScenario, SCENARIOS } from './scenarios.ts';
import { simulate, type ControllerName } from './simulate.ts';
import { spreadZones } from './zones.ts';

const ARGS = {
  ...COMMON_ARGS,
  scenario: z.enum(SCENARIOS).default('season'),
  hours: z.enum(['windows', 'any']).default('windows'),
  lambdas: z.string().max(200).regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'a comma-separated list of litres, e.g. 5,20,80').default('2,5,10,20,40,80,160'),
  grid: z.coerce.number().min(0.005).max(0.5).default(0.02),
  controller: z.boolean().default(false),
  floor: z.coerce.number().min(50).max(100).optional(),
};

const USAGE = `用法 / usage: npm run evaluate:bound -- [options]
完全预知天气与真实土壤墒情的最优浇水计划（下限，不是控制器）/ the best schedule that knows the
true soil and the weather to come (what the world allows, not a controller), against the ET timer in the same run.
  --inventory FILE   城市清单 / the inventory (default inventory/examples/city.yaml)
  --scenario NAME    天气情景 / ${SCENARIOS.join(', ')} (default season)
  --days N           天数 / days (default: the scenario's own)
  --zones N          均匀抽取 N 个自动分区 / N automatic zones spread over the city (default: all)
  --seed N           随机种子 / seed (default 14)
  --hours H          windows: 只在浇水时段 / only in the zones' windows (default); any: 任意时刻 / any hour
  --lambdas L        每个区时出带的代价（升）/ litres a zone-hour out of band is worth, one frontier point each (default 2,5,10,20,40,80,160)
  --grid G           墒情网格 / moisture grid, points (default 0.02)
  --controller       同时运行控制器 / also run the controller (slower)
  --floor P          另算一点：每个分区尽量 ≥ P % 在带内 / one more point: each zone held at ≥ P % in band where it can be (its own λ)
  --out DIR          结果目录 / where bound.json goes (default evaluate/out)
  --help             本说明 / this text
`;


const m3 = (l: number) => Math.round(l / 100) / 10;
const row = (name: string, s: Summary, et: Summary) =>
  `| ${name} | ${s.inBandPct} % | ${s.belowLowPct} % | ${m3(s.waterL)} | ${(s.waterL / et.waterL).toFixed(3)} | ${s.etM3} / ${s.drainM3} / ${s.runoffM3} |`;

async function main(): Promise<void> {
  const a = readCli(process.argv.slice(2), ARGS, ['controller'], USAGE);
  if (!a) return;
  const inv = readEvaluationInventory(a.inventory);
  const started = performance.now();
  const settings = IrrigationSettings.parse({});
  const { zones, fleet } = spreadZones(inv, settings, a.zones);
  const scenario = makeScenario(a.scenario, createRandom(a.seed), a.days);
  const names: ControllerName[] = a.controller ? ['et-timer', 'peak-timer', 'controller'] : ['et-timer', 'peak-timer'];
  const timers = {} as Record<ControllerName, Summary>;
  const timerRows = {} as Record<ControllerName, ZoneResult[]>;
  for (const name of names) {
    process.stderr.write(`${name}…\n`);
    timerRows[name] = (await simulate(name, { zones, fleet, scenario, seed: a.seed, settings: {}, traceZones: new Set(), explainZones: new Set() })).rows;
    timers[name] = summarize(timerRows[name]);
  }
  const lambdas = a.lambdas.split(',').map(Number);
  const points: OraclePoint[] = oracleFrontier({
    zones, fleet, scenario, seed: a.seed, settings, lambdas, hours: a.hours, gridStep: a.grid, floorPct: a.floor,
    onZone: (d, n) => process.stderr.write(process.stderr.isTTY ? `\rbound: zone ${d}/${n}   ` : d === n || d % 50 === 0 ? `bound: zone ${d}/${n}\n` : ''),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const et = timers['et-timer'];
  const lines = [
    `# The best schedule knowing the future (${scenario.description}; ${zones.filter((z) => !z.infeasible).length} feasible zones, seed ${a.seed}, watering ${a.hours === 'any' ? 'at any hour' : 'in the zones\' windows'})`,
    '',
    '| | in band | below low | water m³ | × ET timer | plants\' ET / drained / run off m³ |',
    '|---|---|---|---|---|---|',
    ...names.map((n) => row(n, timers[n], et)),
    ...points.map((p) => row(p.floorPct !== undefined ? `bound, each zone held at ≥ ${p.floorPct} % where it can be (${p.summary.zonesUnder95} under 95 %)` : `bound, λ = ${p.lambda} L/zone-hour (${p.summary.zonesUnder95} zones under 95 %)`, p.summary, et)),
  ];
  const at95 = waterAt(points.filter((p) => p.floorPct === undefined).map((p) => ({ inBandPct: p.summary.inBandPct, ratio: p.summary.waterL / et.waterL })), 95);
  lines.push('', at95 === undefined ? 'No two points of the frontier within 5 points of each other around 95 % in band: add --lambdas there.' : `At 95 % of zone-hours in band the bound needs **${at95.toFixed(3)} × the ET timer's water** (interpolated between its two points around 95 %).`);
  lines.push(`Run time ${Math.round((performance.now() - started) / 1000)} s.`, '');
  const dir = join(a.out, a.scenario);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `bound-${a.hours}.json`), `${JSON.stringify({ scenario: a.scenario, seed: a.seed, hours: a.hours, grid: a.grid, timers, points: points.map((p) => ({ lambda: p.lambda, summary: p.summary, rows: p.rows })), timerRows, at95 }, null, 1)}\n`);
  process.stdout.write(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
