import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderCycles, folderOf, readImportGraph } from '../../scripts/import-graph.ts';

/**
 * Which top-level folder may import which: the direction of the architecture
 * (docs/architecture.md, "Imports"). Everything may import `contracts` and `lib`; the rest
 * is listed. A new folder, or a new edge, is a decision: add it here, with the doc.
 */
const BASE = ['contracts', 'lib'];
const ALLOWED: Record<string, readonly string[]> = {
  lib: [],
  contracts: ['lib'],
  config: BASE,
  influx: BASE,
  registry: BASE,
  // Pure deciders: no clock, no I/O, nothing but the contracts and lib.
  rules: BASE,
  // Reading → point. Never the rules: readings reach them through a listener app.ts passes in.
  ingest: [...BASE, 'influx', 'registry'],
  'durable-log': [...BASE, 'influx'],
  // Knows nothing of InfluxDB or the durable log: it hands readings to the ingest.
  broker: [...BASE, 'config', 'ingest', 'registry'],
  alerts: [...BASE, 'influx', 'registry'],
  notify: [...BASE, 'config', 'registry'],
  // The scorecard's band is irrigation's (rules/irrigation/settings.ts resolveBand).
  assessment: [...BASE, 'alerts', 'influx', 'registry', 'rules'],
  health: [...BASE, 'alerts', 'assessment', 'config', 'influx', 'registry', 'rules'],
  irrigation: [...BASE, 'broker', 'influx', 'registry', 'rules'],
  inventory: [...BASE, 'registry'],
  api: [...BASE, 'alerts', 'assessment', 'health', 'ingest', 'inventory', 'irrigation', 'notify', 'registry', 'rules'],
  dashboards: [...BASE, 'config', 'health', 'rules'],
  // The simulator speaks the contract, as a device would; it knows nothing of the system.
  'firmware-sim': BASE,
  // The weather feed: forecasts and ET0 for irrigation.
  weather: [...BASE, 'config', 'registry'],
  // The people's side: users, signed links, and the server-rendered pages over the API's guards and the services it serves.
  web: [...BASE, 'alerts', 'api', 'registry'],
  // Hourly and daily rollups and the raw retention: InfluxQL in, line protocol out, a cursor in SQLite.
  rollups: [...BASE, 'influx', 'registry'],
  // The clustered mode's parts over Redis: the broker tier, the shared duplicate filter (the ingest's claim port), leases,
  // and the durable log's replica port (acknowledged writes copied to Redis before their PUBACK).
  cluster: [...BASE, 'durable-log', 'ingest'],
};
/** Everything the running system is made of: what the composition root and the entries may import. */
const SYSTEM = Object.keys(ALLOWED);
/** The composition root (app.ts, and app/ once its features move there) and the process entries. */
const ENTRIES: Record<string, readonly string[]> = {
  app: SYSTEM,
  'app.ts': [...SYSTEM, 'app'],
  'main.ts': [...SYSTEM, 'app.ts', 'app'],
  'cli.ts': SYSTEM,
};
/** Tools beside the system: they may import any of it (never the tests), and nothing imports them. */
const TOOLS = ['bench', 'evaluate', 'scripts', 'vitest.config.ts'];
const TEST = 'test';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const graph = readImportGraph(root);
const edges = [...graph.folders].flatMap(([from, to]) => [...to].map((target) => [from, target] as const));

describe('the import graph', () => {
  it('has no cycle between folders', () => {
    expect(folderCycles(graph.folders)).toEqual([]);
  });

  it('finds a cycle where there is one', () => {
    const cyclic = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
    expect(folderCycles(cyclic)).toEqual([['a', 'b', 'c']]);
  });

  it('has every folder with source code declared', () => {
    const known = new Set([...SYSTEM, ...Object.keys(ENTRIES), ...TOOLS, TEST]);
    const undeclared = [...new Set(graph.files.map(folderOf))].filter((folder) => !known.has(folder));
    expect(undeclared, 'a new top-level folder: declare what it may import in ALLOWED').toEqual([]);
  });

  it('points one way: every folder imports only what it is allowed to', () => {
    const allowed = (from: string, to: string): boolean => {
      if (from === TEST) return true;
      if (to === TEST || TOOLS.includes(to)) return false;
      if (TOOLS.includes(from)) return true;
      return (ALLOWED[from] ?? ENTRIES[from] ?? []).includes(to);
    };
    const refused = edges.filter(([from, to]) => !allowed(from, to)).map(([from, to]) => `${from} → ${to}`);
    expect(refused).toEqual([]);
  });

  // The rules the allowed table encodes, stated on their own so a change to the table cannot drop them quietly.
  it.each([
    ['rules imports only contracts and lib', ([from, to]: readonly [string, string]) => from === 'rules' && !BASE.includes(to)],
    ['ingest never imports rules', ([from, to]: readonly [string, string]) => from === 'ingest' && to === 'rules'],
    ['broker knows nothing of InfluxDB', ([from, to]: readonly [string, string]) => from === 'broker' && (to === 'influx' || to === 'durable-log')],
    ['nothing outside test/ imports test/', ([from, to]: readonly [string, string]) => from !== TEST && to === TEST],
  ])('%s', (_rule, breaks) => {
    expect(edges.filter(breaks)).toEqual([]);
  });

  it('reads the imports it is meant to (a check that finds no edge at all would pass anything)', () => {
    expect(graph.folders.get('ingest')).toContain('contracts');
    expect(graph.folders.get('app')).toContain('ingest'); // the composition root's features (app/)
    expect(graph.folders.get('app.ts')).toContain('app');
    expect(graph.folders.get('broker')).toContain('ingest'); // a type-only import counts
    expect(graph.imports.get('ingest/pipeline.ts')).toContain('ingest/decode.ts');
  });
});
