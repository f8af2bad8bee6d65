import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseInventoryText } from '../../../inventory/parse.ts';
import { formatProblem } from '../../../inventory/problems.ts';

const DEMO = readFileSync(new URL('../../../inventory/examples/demo.yaml', import.meta.url), 'utf8');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form mutation of a YAML tree

const C0 = 'districts[0].subDistricts[0].communities[0]';
const C1 = 'districts[0].subDistricts[0].communities[1]';
const community = (doc: Doc, i: number): Doc => doc.districts[0].subDistricts[0].communities[i];
const device = (doc: Doc, id: string): Doc => community(doc, 0).devices.concat(community(doc, 1).devices).find((d: Doc) => d.id === id);

/** `{dev:ID}` → the path of that device in the unbroken demo file. */
const resolve = (text: string): string => text.replace(/\{dev:([^}]+)\}/g, (_, id: string) => {
  const doc = parse(DEMO) as Doc;
  for (const [ci, prefix] of [[0, C0], [1, C1]] as const) {
    const at = (community(doc, ci).devices as Doc[]).findIndex((d) => d.id === id);
    if (at >= 0) return `${prefix}.devices[${at}]`;
  }
  throw new Error(`no device ${id} in the demo`);
});

/** Each broken file: what to break, and the path and problem its error must name. */
const CASES: Array<{ name: string; mutate: (doc: Doc) => void; path: string; message: string }> = [
  { name: 'unknown plant type', mutate: (d) => { community(d, 0).zones[0].plant = 'cactus'; }, path: `${C0}.zones[0].plant`, message: 'expected one of trees|shrubs|hedge|ground_cover|lawn, got "cactus"' },
  { name: 'unknown facility type', mutate: (d) => { community(d, 1).facilities[0].type = 'swing'; }, path: `${C1}.facilities[0].type`, message: 'expected one of pavilion|trellis_rope|planter_trough|fitness_equipment|bench|other' },
  { name: 'unknown device kind', mutate: (d) => { device(d, 'demo-xingfu-rain').kind = 'camera'; }, path: '{dev:demo-xingfu-rain}.kind', message: 'expected one of soil|tilt|valve|rain|gateway' },
  { name: 'missing zone name', mutate: (d) => { delete community(d, 0).zones[1].name; }, path: `${C0}.zones[1].name`, message: 'required (string)' },
  { name: 'misspelt field', mutate: (d) => { community(d, 0).zones[0].plnt = 'lawn'; }, path: `${C0}.zones[0].plnt`, message: 'unknown field' },
  { name: 'wrong type', mutate: (d) => { device(d, 'demo-xingfu-rain').reportIntervalS = 'often'; }, path: '{dev:demo-xingfu-rain}.reportIntervalS', message: 'expected number, got string' },
  { name: 'bad dev EUI', mutate: (d) => { device(d, 'demo-xingfu-gw').devEui = 'xyz'; }, path: '{dev:demo-xingfu-gw}.devEui', message: 'expected 16 hex digits' },
  { name: 'bad id', mutate: (d) => { community(d, 1).zones[0].id = 'has space'; }, path: `${C1}.zones[0].id`, message: 'expected 1-64 letters' },
  { name: 'wrong version', mutate: (d) => { d.version = 2; }, path: 'version', message: 'expected 1, got 2' },
  { name: 'band upside down', mutate: (d) => { community(d, 0).zones[1].band = { low: 40, high: 20 }; }, path: `${C0}.zones[1].band.low`, message: 'low must be below high' },
  { name: 'lat without lon', mutate: (d) => { community(d, 0).facilities[2].location = { lat: 45.6 }; }, path: `${C0}.facilities[2].location.lat`, message: 'lat and lon go together' },
  { name: 'thresholds upside down', mutate: (d) => { community(d, 0).facilities[1].thresholds = { warningDeg: 20, criticalDeg: 10 }; }, path: `${C0}.facilities[1].thresholds.warningDeg`, message: 'warningDeg must be below criticalDeg' },
  { name: 'bad webhook url', mutate: (d) => { d.teams[0].channels[0].channel.url = 'not a url'; }, path: 'teams[0].channels[0].channel.url', message: 'URL' },
  { name: 'device in a zone that does not exist', mutate: (d) => { device(d, 'demo-heping-z1-soil1').zone = 'demo-heping-z9'; }, path: '{dev:demo-heping-z1-soil1}.zone', message: 'no zone "demo-heping-z9" in community "demo-heping"' },
  { name: 'device in another community\'s zone', mutate: (d) => { device(d, 'demo-heping-z1-soil1').zone = 'demo-xingfu-z1'; }, path: '{dev:demo-heping-z1-soil1}.zone', message: 'no zone "demo-xingfu-z1" in community "demo-heping"' },
  { name: 'tilt sensor without a facility', mutate: (d) => { delete device(d, 'demo-heping-bench-tilt').facility; }, path: '{dev:demo-heping-bench-tilt}.facility', message: 'a tilt device needs its facility' },
  { name: 'facility that does not exist', mutate: (d) => { device(d, 'demo-heping-bench-tilt').facility = 'nope'; }, path: '{dev:demo-heping-bench-tilt}.facility', message: 'no facility "nope"' },
  { name: 'zone valve is a soil sensor', mutate: (d) => { community(d, 0).zones[0].valve = 'demo-xingfu-z1-soil1'; }, path: `${C0}.zones[0].valve`, message: '"demo-xingfu-z1-soil1" is a soil device, not a valve' },
  { name: 'zone valve installed in another zone', mutate: (d) => { community(d, 0).zones[0].valve = 'demo-xingfu-z2-valve'; }, path: `${C0}.zones[0].valve`, message: 'valve "demo-xingfu-z2-valve" is not installed in zone "demo-xingfu-z1"' },
  { name: 'zone valve unknown', mutate: (d) => { community(d, 0).zones[0].valve = 'ghost'; }, path: `${C0}.zones[0].valve`, message: 'no device "ghost"' },
  { name: 'automatic zone without a valve', mutate: (d) => { community(d, 1).zones[0].mode = 'automatic'; }, path: `${C1}.zones[0].valve`, message: 'an automatic zone needs its valve controller' },
  { name: 'manual zone with a valve', mutate: (d) => { community(d, 0).zones[0].mode = 'manual'; }, path: `${C0}.zones[0].valve`, message: 'a manual zone is watered by hand' },
  { name: 'duplicate device id', mutate: (d) => { device(d, 'demo-heping-z3-soil1').id = 'demo-heping-z1-soil1'; }, path: '{dev:demo-heping-z3-soil1}.id', message: 'duplicate device id "demo-heping-z1-soil1" (first used at {dev:demo-heping-z1-soil1})' },
  { name: 'duplicate zone id across communities', mutate: (d) => { community(d, 1).zones[2].id = 'demo-xingfu-z1'; device(d, 'demo-heping-z3-soil1').zone = 'demo-xingfu-z1'; }, path: `${C1}.zones[2].id`, message: 'duplicate zone id "demo-xingfu-z1"' },
  { name: 'duplicate dev EUI (any case)', mutate: (d) => { device(d, 'demo-heping-z1-soil1').devEui = 'A840410000000011'; }, path: '{dev:demo-heping-z1-soil1}.devEui', message: 'dev EUI a840410000000011 is already used at {dev:demo-xingfu-z1-soil1}.devEui' },
  { name: 'LoRaWAN binding without a dev EUI', mutate: (d) => { device(d, 'demo-xingfu-z2-soil1').lorawanApplication = 'greenspace-soil@ttn'; }, path: '{dev:demo-xingfu-z2-soil1}.lorawanApplication', message: "a LoRaWAN application binding needs the device's devEui" },
  { name: 'LoRaWAN binding that is no application id', mutate: (d) => { device(d, 'demo-xingfu-z1-soil1').lorawanApplication = 'app/+'; }, path: '{dev:demo-xingfu-z1-soil1}.lorawanApplication', message: 'expected a ChirpStack application id or a The Things Stack {application}@{tenant}' },
  { name: 'gateway that is not a gateway', mutate: (d) => { device(d, 'demo-heping-z1-soil1').gateway = 'demo-xingfu-rain'; }, path: '{dev:demo-heping-z1-soil1}.gateway', message: '"demo-xingfu-rain" is a rain device, not a gateway' },
  { name: 'team answers for an unknown community', mutate: (d) => { d.teams[0].communities.push('atlantis'); }, path: 'teams[0].communities[2]', message: 'no community "atlantis" in the inventory' },
  { name: 'team quiet hours not HH:MM', mutate: (d) => { d.teams[0].quietHours = { start: '22h', end: '07:00' }; }, path: 'teams[0].quietHours.start', message: 'expected HH:MM (24 h)' },
  { name: 'team quiet hours without an end', mutate: (d) => { d.teams[0].quietHours = { start: '22:00' }; }, path: 'teams[0].quietHours.end', message: 'required (string)' },
  { name: 'team quiet hours at an impossible offset', mutate: (d) => { d.teams[0].quietHours.utcOffsetMinutes = 900; }, path: 'teams[0].quietHours.utcOffsetMinutes', message: 'Too big: expected number to be <=840' },
  { name: 'duplicate technician', mutate: (d) => { d.teams[0].technicians[1].id = 'demo-tech-wang'; }, path: 'teams[0].technicians[1].id', message: 'duplicate technician id' },
  { name: 'district name too long', mutate: (d) => { d.districts[0].name = '洮'.repeat(101); }, path: 'districts[0].name', message: 'expected a name of at most 100 characters' },
  { name: 'sub-district name too long', mutate: (d) => { d.districts[0].subDistricts[0].name = 'x'.repeat(101); }, path: 'districts[0].subDistricts[0].name', message: 'expected a name of at most 100 characters' },
  { name: 'community name too long', mutate: (d) => { community(d, 1).name = '幸福'.repeat(51); }, path: `${C1}.name`, message: 'expected a name of at most 100 characters' },
  { name: 'zone name too long', mutate: (d) => { community(d, 0).zones[0].name = 'z'.repeat(10_000); }, path: `${C0}.zones[0].name`, message: 'expected a name of at most 100 characters' },
  { name: 'facility name too long', mutate: (d) => { community(d, 1).facilities[0].name = '亭'.repeat(101); }, path: `${C1}.facilities[0].name`, message: 'expected a name of at most 100 characters' },
  { name: 'team name too long', mutate: (d) => { d.teams[0].name = 't'.repeat(101); }, path: 'teams[0].name', message: 'expected a name of at most 100 characters' },
  { name: 'watering window not cron', mutate: (d) => { community(d, 0).zones[0].windows = ['at dawn']; }, path: `${C0}.zones[0].windows[0]`, message: 'not a cron expression' },
];

describe('inventory errors name the file, the path and the problem', () => {
  it('accepts the demo inventory as shipped', () => {
    expect(parseInventoryText(DEMO, 'demo.yaml').ok).toBe(true);
  });

  it('accepts names of exactly 100 characters (Chinese ones counted by character)', () => {
    const doc = parse(DEMO) as Doc;
    doc.districts[0].name = '洮'.repeat(100);
    community(doc, 0).zones[0].name = 'z'.repeat(100);
    community(doc, 1).facilities[0].name = `  ${'亭'.repeat(100)}  `;
    expect(parseInventoryText(stringify(doc), 'long.yaml').ok).toBe(true);
  });

  it.each(CASES)('$name', ({ mutate, path: pattern, message: template }) => {
    const path = resolve(pattern);
    const message = resolve(template);
    const doc = parse(DEMO) as Doc;
    mutate(doc);
    const result = parseInventoryText(stringify(doc), 'broken.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const hit = result.error.find((p) => p.path === path);
    expect(hit, `problems were: ${result.error.map(formatProblem).join('; ')}`).toBeDefined();
    expect(hit?.file).toBe('broken.yaml');
    expect(hit?.message).toContain(message);
    expect(hit?.line).toBeGreaterThan(0);
    expect(formatProblem(hit!)).toMatch(new RegExp(`^broken\\.yaml:\\d+: ${path.replace(/[.[\]]/g, '\\$&')}: `));
  });

  it.each([
    { name: 'YAML syntax', text: 'version: 1\ndistricts: [\n  - id: x\n', line: 3 },
    { name: 'duplicate key', text: 'version: 1\nversion: 1\ndistricts: []\n', line: 2 },
    { name: 'JSON syntax', text: '{"version": 1, "districts": [}', line: 1 },
  ])('points at the line of a $name error', ({ text, line }) => {
    const result = parseInventoryText(text, 'city.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error[0]).toMatchObject({ file: 'city.json', line });
    expect(formatProblem(result.error[0]!)).toMatch(/^city\.json:\d+: line \d+, column \d+: /);
  });

  it('reports every problem of a file at once, not only the first', () => {
    const doc = parse(DEMO) as Doc;
    community(doc, 0).zones[0].plant = 'cactus';
    community(doc, 1).facilities[0].type = 'swing';
    const result = parseInventoryText(stringify(doc), 'two.yaml');
    expect(result.ok ? [] : result.error.map((p) => p.path)).toEqual([`${C0}.zones[0].plant`, `${C1}.facilities[0].type`]);
  });
});
