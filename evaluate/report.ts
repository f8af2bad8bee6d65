import type { Evaluation } from './evaluate.ts';
import { CONTROLLERS, type ControllerName } from './simulate.ts';

const COLOURS: Record<ControllerName, string> = { controller: '#1b7f3b', 'peak-timer': '#c0392b', 'et-timer': '#2e6fb5' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The evaluation as Markdown: the goal, the three side by side, infeasible zones, sample decisions. */
export function toMarkdown(e: Evaluation, charts: string[]): string {
  const s = e.summary;
  const row = (label: string, f: (n: ControllerName) => string) => `| ${label} | ${CONTROLLERS.map(f).join(' | ')} |`;
  const lines = [
    `# Irrigation evaluation: ${e.scenario.name}`,
    '',
    `${e.scenario.description}. ${s.controller.zones} automatic zones (${s.controller.feasibleZones} with a feasible band), ${e.scenario.days} days from ${e.scenario.start}, seed ${e.seed}, run time ${e.runSeconds} s.`,
    '',
    `| | ${CONTROLLERS.join(' | ')} |`,
    `|---|${CONTROLLERS.map(() => '---').join('|')}|`,
    row('zone-hours in band (true moisture)', (n) => `${s[n].inBandPct} %`),
    row(`… over the ${s.controller.holdableZones} zones whose band holds a hot day`, (n) => `${s[n].holdableInBandPct} %`),
    row('zone-hours in band (as the sensors say)', (n) => (n === 'controller' ? `${s[n].sensedInBandPct} %` : '—')),
    row('below the band\'s low', (n) => `${s[n].belowLowPct} %`),
    row('above the band\'s high', (n) => `${s[n].aboveHighPct} %`),
    row('in water stress (below 50 % of available water)', (n) => `${s[n].stressPct} %`),
    row('zone-hours at wilting point', (n) => `${s[n].wiltingZoneHours}`),
    row('zones under 95 % in band', (n) => `${s[n].zonesUnder95}`),
    row('water, total', (n) => `${(s[n].waterL / 1000).toFixed(1)} m³`),
    row('water per zone', (n) => `${s[n].waterPerZoneL.toLocaleString('en')} L`),
    row('runs', (n) => `${s[n].runs}`),
    row('where water went: plants\' ET / drained / run off', (n) => `${Math.round(s[n].etM3)} / ${Math.round(s[n].drainM3)} / ${Math.round(s[n].runoffM3)} m³`),
    '',
    ...againstEtTimer(e),
    '## Goals',
    '',
    ...(e.goals.length > 0 ? e.goals.map((g) => `- ${g.met ? '✅' : '❌'} ${g.goal}: ${g.measured}`) : ['Issue 14 sets no goal for this scenario: compare the columns.']),
    '',
    ...(e.infeasible.length > 0 ? ['## Infeasible zones (left out of the figures)', '', ...e.infeasible.map((z) => `- ${z.zoneId}: ${z.why}`), ''] : []),
    ...(e.marginal.length > 0 ? [`## Bands too narrow for a hot day (${e.marginal.length}; in the figures, and apart in the second row)`, '', ...e.marginal.slice(0, 20).map((z) => `- ${z.zoneId}: ${z.why}`), ...(e.marginal.length > 20 ? [`- … and ${e.marginal.length - 20} more (evaluation.json)`] : []), ''] : []),
    ...(e.faults ? ['## Sensor faults injected and the alerts that told of them', '', '| fault (sensor 1 of the zone) | injected | alert | raised | zones\' hours in band / below low / above high (controller) |', '|---|---|---|---|---|',
      ...Object.entries(e.faults.byKind).map(([f, t]) => `| ${f} | ${t.injected} | ${t.alert} | ${t.raised} | ${t.inBandPct} % / ${t.belowLowPct} % / ${t.aboveHighPct} % |`), '', `Sensor-fault alerts about zones and devices without a fault: ${e.faults.falseAlarms}.`, ''] : []),
    ...(Object.keys(e.signals).length > 0 ? ['## Alerts raised (the engine; in the faults scenario also the app\'s device-health detectors)', '', ...Object.entries(e.signals).map(([k, n]) => `- ${k}: ${n}`), ''] : []),
    '## Charts',
    '',
    ...charts.map((c) => `![${c}](${c})`),
    '',
    '## Decisions of a sample zone (the first 30)',
    '',
    ...e.decisions.slice(0, 30).map((d) => `- ${local(d.at)} ${d.zoneId} **${d.action}:${d.reason}** moisture ${d.inputs.moisture ?? '—'} % (band ${d.inputs.band.low}–${d.inputs.band.high})${d.durationS ? `, ${Math.round(d.durationS / 60)} min` : ''}${d.volumeL ? `, ${d.volumeL} L` : ''}${d.inputs.why ? ` — ${d.inputs.why}` : ''}`),
    '',
  ];
  return lines.join('\n');
}

/**
 * The controller's water against the ET timer's, term by term: rain is the same for both, so
 * the difference is what its plants transpired more (they were kept above the low, where the ET
 * timer's were stressed), what drained more, what ran off more, and the rest is soil left wetter.
 */
export function againstEtTimer(e: Pick<Evaluation, 'summary'>): string[] {
  const c = e.summary.controller;
  const t = e.summary['et-timer'];
  const dWater = (c.waterL - t.waterL) / 1000;
  const dEt = c.etM3 - t.etM3;
  const dDrain = c.drainM3 - t.drainM3;
  const dRunoff = c.runoffM3 - t.runoffM3;
  const f = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
  return [
    `Controller − ET timer (控制器与 ET 定时器之差): water ${f(dWater)} m³ = plants' ET ${f(dEt)} (the ET timer's zones were below the low ${t.belowLowPct} % of the hours, where plants transpire less) + drained ${f(dDrain)} + run off ${f(dRunoff)} + left in the soil ${f(dWater - dEt - dDrain - dRunoff)} m³.`,
    '',
  ];
}

/** Local time of the simulated city (UTC+8, the simulator's climate). */
const local = (t: number) => `${new Date(t + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')} +08`;

const W = 760;
const H = 260;
const PAD = 40;

/** Hourly true moisture of one zone under each controller, against its band. */
export function traceSvg(e: Evaluation, zoneId: string): string | undefined {
  const series = CONTROLLERS.map((n) => ({ n, r: e.zones[n].find((z) => z.zoneId === zoneId) })).filter((x) => x.r?.trace);
  const first = series[0]?.r;
  if (!first?.trace) return undefined;
  const all = series.flatMap((x) => x.r!.trace!);
  const lo = Math.min(first.band.low - 2, ...all);
  const hi = Math.max(first.band.high + 2, ...all);
  const x = (i: number) => PAD + ((W - 2 * PAD) * i) / Math.max(1, first.trace!.length - 1);
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * (v - lo)) / (hi - lo);
  const lines = series.map(({ n, r }) => `<polyline fill="none" stroke="${COLOURS[n]}" stroke-width="1" points="${r!.trace!.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
  return svg(`${zoneId} (${first.plant}, ${first.soil}): true moisture, band ${first.band.low}–${first.band.high} %`, [
    `<rect x="${PAD}" y="${y(first.band.high)}" width="${W - 2 * PAD}" height="${y(first.band.low) - y(first.band.high)}" fill="#e8f5e9"/>`,
    ...lines,
    `<text x="4" y="${y(first.band.high) + 4}" font-size="10">${first.band.high}</text><text x="4" y="${y(first.band.low) + 4}" font-size="10">${first.band.low}</text>`,
    legend(),
  ]);
}

/** Water per zone, zones sorted by the peak timer's water. */
export function waterSvg(e: Evaluation): string {
  const ids = [...e.zones['peak-timer']].sort((a, b) => a.waterL - b.waterL).map((z) => z.zoneId);
  const by = Object.fromEntries(CONTROLLERS.map((n) => [n, new Map(e.zones[n].map((z) => [z.zoneId, z.waterL]))]));
  const max = Math.max(1, ...CONTROLLERS.flatMap((n) => [...by[n]!.values()]));
  const x = (i: number) => PAD + ((W - 2 * PAD) * i) / Math.max(1, ids.length - 1);
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * v) / max;
  return svg(`water per zone (L), max ${Math.round(max).toLocaleString('en')} L`, [
    ...CONTROLLERS.map((n) => `<polyline fill="none" stroke="${COLOURS[n]}" stroke-width="1.2" points="${ids.map((id, i) => `${x(i).toFixed(1)},${y(by[n]!.get(id) ?? 0).toFixed(1)}`).join(' ')}"/>`),
    legend(),
  ]);
}

/** How many zones spent what share of their hours in band (10 % bins). */
export function histogramSvg(e: Evaluation): string {
  const bins = CONTROLLERS.map((n) => {
    const b = new Array<number>(10).fill(0);
    for (const z of e.zones[n]) if (!z.infeasible) b[Math.min(9, Math.floor((10 * z.inBandH) / Math.max(1, z.hours)))]!++;
    return b;
  });
  const max = Math.max(1, ...bins.flat());
  const bw = (W - 2 * PAD) / 10 / 3.5;
  const bars = bins.flatMap((b, k) => b.map((count, i) => {
    const h = ((H - 2 * PAD) * count) / max;
    return `<rect x="${(PAD + i * ((W - 2 * PAD) / 10) + k * bw).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[CONTROLLERS[k]!]}"/>`;
  }));
  const labels = Array.from({ length: 10 }, (_, i) => `<text x="${PAD + i * ((W - 2 * PAD) / 10)}" y="${H - PAD + 14}" font-size="10">${i * 10}–${i * 10 + 10} %</text>`);
  return svg(`zones by share of hours in band (max bin ${max} zones)`, [...bars, ...labels, legend()]);
}

function legend(): string {
  return CONTROLLERS.map((n, i) => `<text x="${PAD + i * 140}" y="${H - 6}" font-size="11" fill="${COLOURS[n]}">■ ${n}</text>`).join('');
}

function svg(title: string, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif"><rect width="${W}" height="${H}" fill="#fff"/><text x="${PAD}" y="18" font-size="13">${esc(title)}</text>${body.join('')}</svg>\n`;
}
