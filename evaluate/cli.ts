import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { COMMON_ARGS, readCli, readEvaluationInventory } from './cli-args.ts';
import { evaluate } from './evaluate.ts';
import { histogramSvg, toMarkdown, traceSvg, waterSvg } from './report.ts';
import { SCENARIOS } from './scenarios.ts';

const ARGS = { ...COMMON_ARGS, scenario: z.enum(SCENARIOS).default('drought') };

const USAGE = `用法 / usage: npm run evaluate -- [options]
  --inventory FILE   城市清单 / the inventory (default inventory/examples/city.yaml)
  --scenario NAME    天气情景 / weather scenario: ${SCENARIOS.join(', ')} (default drought)
  --days N           天数 / days (default: the scenario's own)
  --zones N          均匀抽取 N 个自动分区 / N automatic zones spread evenly over the city (default: all)
  --seed N           随机种子 / seed for weather and sensor errors (default 14)
  --out DIR          报告目录 / where report.md, evaluation.json and the charts go (default evaluate/out)
  --help             本说明 / this text
`;

/** `npm run evaluate -- --scenario season --zones 40`: the controller against both timers; prints and writes JSON, Markdown and SVG charts. */
async function main(): Promise<void> {
  const a = readCli(process.argv.slice(2), ARGS, [], USAGE);
  if (!a) return;
  const inv = readEvaluationInventory(a.inventory);
  const tty = process.stderr.isTTY;
  const e = await evaluate({
    inventory: inv, scenario: a.scenario, days: a.days, zones: a.zones, seed: a.seed,
    onProgress: (c, d, n) => { if (tty) process.stderr.write(`\r${c.padEnd(10)} day ${d}/${n}   `); else if (d === n) process.stderr.write(`${c} done\n`); },
  });
  if (tty) process.stderr.write('\n');
  const dir = join(a.out, a.scenario);
  mkdirSync(dir, { recursive: true });
  const charts: string[] = [];
  const write = (name: string, text: string) => { writeFileSync(join(dir, name), text); return name; };
  for (const z of e.zones.controller.filter((r) => r.trace)) {
    const s = traceSvg(e, z.zoneId);
    if (s) charts.push(write(`trace-${z.zoneId}.svg`, s));
  }
  charts.push(write('water-per-zone.svg', waterSvg(e)), write('in-band-histogram.svg', histogramSvg(e)));
  write('evaluation.json', `${JSON.stringify(e, (k, v) => (k === 'trace' ? undefined : v), 1)}\n`);
  const md = toMarkdown(e, charts);
  write('report.md', md);
  process.stdout.write(`${md.split('## Charts')[0]}\nwritten to ${dir}/ (report.md, evaluation.json, ${charts.length} charts)\n`);
}

await main();
