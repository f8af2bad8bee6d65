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

/** `npm run evaluate -- --scenario season --zones 40`: the controller against both timers; prints and writes JSON, Markdown and SVG charts. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { inventory: { type: 'string' }, scenario: { type: 'string' }, days: { type: 'string' }, zones: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } } });
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
