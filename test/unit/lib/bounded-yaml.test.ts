import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_DOCUMENT_LIMITS, parseBoundedConfig, parseBoundedYaml, scanJson, scanYaml } from '../../../lib/bounded-yaml.ts';

const file = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const LIMITS = { maxDepth: 64, maxAliases: 100 };
const indented = (levels: number) => `a:\n${Array.from({ length: levels }, (_, i) => `${' '.repeat(i + 1)}b${i}:`).join('\n')}\n`;

describe('bounded YAML: the nesting scan', () => {
  // Each of these took the yaml parser seconds (the 2 MB brackets: out of memory); the scan stops at level 65.
  it.each([
    { name: '1,000,000 [', text: '['.repeat(1_000_000), line: 1 },
    { name: 'flow mappings', text: '{a: '.repeat(100_000), line: 1 },
    { name: 'compact block sequences', text: `${'- '.repeat(100_000)}x`, line: 1 },
    { name: 'indentation', text: indented(2_000), line: 65 },
    { name: 'brackets after a valid prefix', text: `version: 1\nnote: "[[[["\nlist: ${'['.repeat(100)}`, line: 3 },
  ])('refuses $name as too deep, at its line', ({ text, line }) => {
    expect(scanYaml(text, LIMITS)).toEqual({ code: 'too_deep', message: 'nested more than 64 levels deep', line });
  });

  it('refuses more aliases than the limit (each may expand to its anchor)', () => {
    const text = `a: &x [1, 2]\nb: [${Array(101).fill('*x').join(', ')}]\n`;
    expect(scanYaml(text, LIMITS)).toMatchObject({ code: 'too_many_aliases', line: 2 });
    expect(scanYaml(`a: &x [1]\nb: [${Array(100).fill('*x').join(', ')}]\n`, LIMITS)).toBeUndefined();
  });

  it.each([
    { name: 'the city inventory', text: file('inventory/examples/city.yaml') },
    { name: 'the demo inventory', text: file('inventory/examples/demo.yaml') },
    { name: 'the simulator scenarios', text: file('firmware-sim/scenarios/scenarios.yaml') },
    { name: 'the fleet example', text: file('firmware-sim/fleets/example.yaml') },
    { name: 'the Grafana provisioning', text: file('dashboards/provisioning/datasources/greenspace.yaml') },
    { name: 'the city as JSON', text: JSON.stringify(parse(file('inventory/examples/city.yaml')), null, 2) },
    { name: 'brackets inside quotes, comments, block scalars and plain words', text: `a: "${'['.repeat(200)}"\nb: '${'{'.repeat(200)} it''s'\n# ${'['.repeat(200)}\nc: |\n  ${'['.repeat(200)}\n   ${'{'.repeat(200)}\nd: x${'['.repeat(200)}\ne: O'Brien [1, [2]]\n` },
    { name: '60 levels of indentation', text: indented(60) },
  ])('accepts $name', ({ text }) => {
    expect(scanYaml(text, LIMITS)).toBeUndefined();
  });
});

describe('bounded JSON: the nesting scan', () => {
  it('refuses 65 levels, accepts 64, and ignores brackets inside strings', () => {
    expect(scanJson('['.repeat(65) + ']'.repeat(65), 64)).toMatchObject({ code: 'too_deep' });
    expect(scanJson('['.repeat(64) + ']'.repeat(64), 64)).toBeUndefined();
    expect(scanJson(JSON.stringify({ a: '['.repeat(1000), b: '\\"[[[' }), 64)).toBeUndefined();
  });
});

describe('parseBoundedYaml / parseBoundedConfig', () => {
  it('refuses a document over the size limit before scanning it', () => {
    const result = parseBoundedYaml('a: 1\n'.repeat(300_000), { ...DEFAULT_DOCUMENT_LIMITS, maxBytes: 1024 * 1024 });
    expect(result).toMatchObject({ ok: false, problem: { code: 'too_large' } });
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(parseBoundedYaml(`a: ${'水'.repeat(400)}`, { ...DEFAULT_DOCUMENT_LIMITS, maxBytes: 1_000 })).toMatchObject({ ok: false, problem: { code: 'too_large' } });
    expect(parseBoundedYaml(`a: ${'水'.repeat(300)}`, { ...DEFAULT_DOCUMENT_LIMITS, maxBytes: 1_000 })).toMatchObject({ ok: true });
  });

  it('names the file and line of a config problem, and returns the value otherwise', () => {
    expect(() => parseBoundedConfig(`a:\n  b: ${'['.repeat(70)}`, 'gs.yaml')).toThrow('gs.yaml:2: nested more than 64 levels deep');
    expect(() => parseBoundedConfig('a: [1,\n', 'gs.yaml')).toThrow(/^gs\.yaml:\d+: /);
    expect(parseBoundedConfig('mqttPort: 1884\nlist: [1, {b: 2}]\n', 'gs.yaml')).toEqual({ mqttPort: 1884, list: [1, { b: 2 }] });
  });
});
