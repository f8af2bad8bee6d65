import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateCity } from '../../../inventory/generate-city.ts';
import { parseInventoryText, validateInventory } from '../../../inventory/parse.ts';
import { formatInventory } from '../../../inventory/export.ts';
import type { Inventory } from '../../../contracts/inventory.ts';

const COMMITTED = readFileSync(new URL('../../../inventory/examples/city.yaml', import.meta.url), 'utf8');
const body = (text: string) => text.replace(/^(#.*\n)+/, '');

function shape(inv: Inventory) {
  const communities = inv.districts.flatMap((d) => d.subDistricts.flatMap((s) => s.communities.map((c) => ({ district: d.id, c }))));
  const handWatered = communities.filter(({ c }) => c.zones.every((z) => z.mode === 'manual') && !c.devices.some((x) => x.kind === 'valve'));
  const facilities = communities.flatMap(({ c }) => c.facilities);
  const count = (xs: string[]) => Object.fromEntries([...new Set(xs)].sort().map((x) => [x, xs.filter((y) => y === x).length]));
  return {
    districts: inv.districts.map((d) => d.name),
    subDistricts: inv.districts.reduce((n, d) => n + d.subDistricts.length, 0),
    communities: communities.length,
    handWateredByDistrict: count(handWatered.map((h) => h.district)),
    monitoredPoints: communities.reduce((n, { c }) => n + c.zones.length + c.facilities.length, 0),
    facilityTypes: count(facilities.map((f) => f.type)),
    uncoveredCommunities: communities.filter(({ c }) => !inv.teams.some((t) => t.communities.includes(c.id))).length,
  };
}

describe('the city-sized inventory', () => {
  it('is what the seeded generator writes (regenerate with npx tsx inventory/generate-city.ts)', () => {
    const generated = validateInventory(generateCity(2025), 'generated');
    expect(generated.ok).toBe(true);
    if (generated.ok) expect(formatInventory(generated.value)).toBe(body(COMMITTED));
  });

  it('has the shape of the 2025 survey', () => {
    const parsed = parseInventoryText(COMMITTED, 'city.yaml');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const s = shape(parsed.value);
    expect(s).toMatchObject({
      districts: ['工业园区', '经开区', '洮北区'],
      subDistricts: 11,
      communities: 213,
      handWateredByDistrict: { gongye: 8, jingkai: 12, taobei: 42 },
      monitoredPoints: 1342,
      uncoveredCommunities: 0,
    });
    expect(s.facilityTypes).toMatchObject({ fitness_equipment: 102, bench: 10 });
    expect(Object.keys(s.facilityTypes).sort()).toEqual(['bench', 'fitness_equipment', 'other', 'pavilion', 'planter_trough', 'trellis_rope']);
  });

  it('changes with the seed', () => {
    expect(JSON.stringify(generateCity(7))).not.toBe(JSON.stringify(generateCity(2025)));
  });
});
