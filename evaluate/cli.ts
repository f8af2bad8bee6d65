import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { readInventoryFile } from '../inventory/files.ts';
import { evaluate } from './evaluate.ts';
import { histogramSvg, toMarkdown, traceSvg, waterSvg } from './report.ts';
import { SCENARIOS } from './scenarios.ts';

const Args = z.object({
  inventory: z.string().default('inventory/examples/city.yaml'),
  scenario: z.enum(SCENARIOS).default('drought'),
  days: z.coerce.number().int().positive().optional(),
  zones: z.coerce.number().int().positive().optional(),
  seed: z.coerce.number().int().default(14),
  out: z.string().default('evaluate/out'),
});

const USAGE = `用法 / usage: npm run evaluate -- [options]
  --inventory FILE   城市清单 / the inventory (default inventory/examples/city.yaml)
  --scenario NAME    天气情景 / weather scenario: ${SCENARIOS.join(', ')} (default drought)
  --days N           天数 / days (default: the scenario's own)
  --zones N          均匀抽取 N 个自动分区 / N automatic zones spread evenly over the city (default: all)
  --seed N           随机种子 / seed for weather and sensor errors (default 14)
  --out DIR          报告目录 / where report.md, evaluation.json and the charts go (default evaluate/out)
  --help             本说明 / this text
`;

/** The options, or the reason they are not (an unknown option, a value missing): parseArgs throws on both. */
function readArgs(argv: string[]): { values: Record<string, string | boolean | undefined> } | { error: string } {
  try {
    return parseArgs({ args: argv, options: { inventory: { type: 'string' }, scenario: { type: 'string' }, days: { type: 'string' }, zones: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** `npm run evaluate -- --scenario season --zones 40`: the controller against both timers; prints and writes JSON, Markdown and SVG charts. */
async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  if ('error' in args) {
    process.stderr.write(`${args.error}\n\n${USAGE}`);
    process.exit(2);
  }
  const { help, ...values } = args.values;
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  const parsed = Args.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
    process.exit(2);
  }
  const a = parsed.data;
  // Zones whose bands their soil cannot hold are evaluated and listed as infeasible, not refused.
  const inv = readInventoryFile(a.inventory, { infeasibleBands: 'warn' });
  if (!inv.ok) {
    process.stderr.write(`${inv.error.map((p) => `${p.file ?? a.inventory}:${p.line ?? 0}: ${p.path}: ${p.message}`).join('\n')}\n`);
    process.exit(1);
  }
  const tty = process.stderr.isTTY;
  const e = await evaluate({
    inventory: inv.value, scenario: a.scenario, days: a.days, zones: a.zones, seed: a.seed,
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
