import { describe, expect, it } from 'vitest';
import { expandMacros, formatInterval, regexEscape, type MacroContext } from '../../../dashboards/macros.ts';

const ctx = (variables: MacroContext['variables'] = {}): MacroContext => ({ fromMs: 1_000, toMs: 61_000, intervalMs: 60_000, variables });

describe('expandMacros (as Grafana expands raw InfluxQL)', () => {
  it.each([
    ['WHERE $timeFilter', 'WHERE time >= 1000ms and time <= 61000ms'],
    ['GROUP BY time($__interval)', 'GROUP BY time(1m)'],
    ['GROUP BY time($interval)', 'GROUP BY time(1m)'],
    ['LIMIT $__interval_ms', 'LIMIT 60000'],
    ['"zone" =~ /^$zone$/', '"zone" =~ /^z\\.1$/'],
    ['"zone" =~ /^${zone}$/', '"zone" =~ /^z\\.1$/'],
    ['"zone" =~ /^[[zone]]$/', '"zone" =~ /^z\\.1$/'],
    ['"community" =~ /^$community$/', '"community" =~ /^(c-1|c\\(2\\))$/'],
    ['"district" =~ /^$district$/', '"district" =~ /^.*$/'],
    ['"facility" =~ /^$facility$/', '"facility" =~ /^(f1|f2)$/'],
  ])('%s', (query, expanded) => {
    expect(expandMacros(query, ctx({
      zone: { selected: ['z.1'] },
      community: { selected: ['c-1', 'c(2)'] },
      district: { selected: 'all', allValue: '.*' },
      facility: { selected: 'all', options: ['f1', 'f2'] },
    }))).toBe(expanded);
  });

  it('refuses a variable the dashboard does not define', () => {
    expect(() => expandMacros('WHERE "zone" =~ /^$zon$/', ctx())).toThrow(/undefined variable \$zon/);
  });

  it.each([[60_000, '1m'], [30_000, '30s'], [3_600_000, '1h'], [86_400_000, '1d'], [90_000, '90s'], [250, '250ms']])('formats %d ms as %s', (ms, s) => {
    expect(formatInterval(ms)).toBe(s);
  });

  it('escapes every regex metacharacter and the slash that ends an InfluxQL regex', () => {
    expect(regexEscape('a.b*c/d(e)|f')).toBe('a\\.b\\*c\\/d\\(e\\)\\|f');
  });
});
