/**
 * Generates inventory/examples/city.yaml: a city-sized inventory shaped like the real
 * deployment in the housing bureau's 2025 reply (白住建议字〔2025〕3号): 3 districts,
 * 11 sub-districts (街道), 213 communities of which 62 are hand-watered (洮北区 42,
 * 经开区 12, 工业园区 8), 1,342 monitored points (zones + facilities, the survey's 点位),
 * 102 sets of fitness equipment and 10 benches in the hand-watered communities.
 * Real district names; sub-district names of 洮北区 are real, the others and every
 * community, coordinate and EUI are made up. Deterministic: the same seed writes the
 * same bytes. Run: npx tsx inventory/generate-city.ts [--seed N] [OUT]
 */
import { writeFileSync } from 'node:fs';
import { createRandom, type Random } from '../lib/random.ts';
import type { InventoryCommunity, InventoryDevice, InventoryFacility, InventoryInput, InventoryZone } from '../contracts/inventory.ts';
import type { FacilityType, PlantType } from '../contracts/device.ts';
import { DEFAULT_ZONE_HYDRAULICS, fao56Band, PLANT_KC, SOIL_WATER, type MoistureBand, type SoilType } from '../contracts/zone.ts';
import type { Team } from '../contracts/team.ts';
import { validateInventory } from './parse.ts';
import { formatInventory } from './export.ts';
import { formatProblem } from './problems.ts';

export const CITY_SHAPE = {
  monitoredPoints: 1342,
  fitnessSets: 102,
  benches: 10,
  districts: [
    { id: 'taobei', name: '洮北区', handWatered: 42, subDistricts: [
      ['mingren', '明仁街道', 20], ['ruiguang', '瑞光街道', 20], ['xinhua', '新华街道', 20], ['changqing', '长庆街道', 20],
      ['tiedong', '铁东街道', 20], ['haiming', '海明街道', 20], ['xinli', '新立街道', 20], ['baosheng', '保胜街道', 20]] },
    { id: 'jingkai', name: '经开区', handWatered: 12, subDistricts: [['xingfu', '幸福街道', 17], ['xinxing', '新兴街道', 16]] },
    { id: 'gongye', name: '工业园区', handWatered: 8, subDistricts: [['yuanqu', '园区街道', 20]] },
  ] as Array<{ id: string; name: string; handWatered: number; subDistricts: Array<[string, string, number]> }>,
} as const;

const NAME_HEADS = ['幸福', '和平', '建设', '光明', '红旗', '胜利', '民主', '团结', '友谊', '朝阳', '东风', '前进', '向阳', '春光', '长安',
  '安居', '康乐', '金桥', '银河', '丰收', '育才', '文化', '铁路', '电业', '粮库', '纺织', '机械', '化工', '医药', '邮电', '林业',
  '水利', '交通', '商贸', '园丁', '翠苑', '锦绣', '怡园', '祥和', '盛世', '福源', '兴隆', '瑞祥', '吉祥', '永安'];
const NAME_TAILS = ['小区', '家园', '花园', '新村', '里'];
const SIDES = ['东侧', '西侧', '南侧', '北侧', '中心', '楼间', '入口'];
const PLANT_NAMES: Record<PlantType, string> = { trees: '乔木', shrubs: '灌木带', hedge: '绿篱', ground_cover: '地被', lawn: '草坪' };
const FACILITY_NAMES: Record<FacilityType, string> = {
  pavilion: '木质凉亭', trellis_rope: '牵引绳爬藤架', planter_trough: '硬塑种植槽', fitness_equipment: '健身器材', bench: '休闲座椅', other: '宣传栏',
};

const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const weighted = <T extends string>(rng: Random, weights: Record<T, number>): T => {
  const total = Object.values<number>(weights).reduce((a, b) => a + b, 0);
  let x = rng() * total;
  for (const [k, w] of Object.entries<number>(weights)) if ((x -= w) < 0) return k as T;
  return Object.keys(weights)[0] as T;
};
const shuffle = <T>(rng: Random, items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
};
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const round = (x: number, digits: number): number => Number(x.toFixed(digits)) + 0; // + 0 turns -0 into 0
const byId = <T extends { id: string }>(items: T[]): T[] => items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/**
 * Every zone's band from FAO-56 for its plant and soil (contracts/zone.ts fao56Band: low at the
 * readily available water's end, high at field capacity + 2), so no band is one its soil
 * cannot hold or every rain breaches. One zone in twenty is the site's own: a depletion
 * fraction between 0.35 and 0.6 and a high 1–2 points over field capacity. (Two draws either
 * way, so the rest of the city stays the same for a seed.)
 */
function zoneBand(rng: Random, plant: PlantType, soil: SoilType): MoistureBand {
  if (rng() >= 0.05) return fao56Band(plant, soil);
  const own = fao56Band(plant, soil, 0.35 + 0.05 * Math.floor(rng() * 6));
  return { low: own.low, high: SOIL_WATER[soil].fieldCapacity + 1 + Math.floor(rng() * 2) };
}

/** A hot day's reference ET0 (mm): the drought month's hottest days. */
const HOT_DAY_ET0_MM = 7;

/**
 * Watering windows: the deployment's (05–06 and 19–20) unless the zone says otherwise. One
 * automatic zone in ten waters earlier (04:00–04:59) and at 19:00–19:59. A zone whose readily
 * available water (field capacity − low) is less than a hot day's Kc × ET0 over its root depth
 * cannot be carried from a morning window to an evening one (shallow turf on sand: 2.8 points
 * against 3.3), so it gets a midday window too, as turf on sand is watered in practice.
 */
function zoneWindows(early: boolean, plant: PlantType, soil: SoilType): { windows?: string[] } {
  const band = fao56Band(plant, soil);
  const dayPoints = (PLANT_KC[plant] * HOT_DAY_ET0_MM * 100) / DEFAULT_ZONE_HYDRAULICS[plant].rootDepthMm;
  const midday = SOIL_WATER[soil].fieldCapacity - band.low < dayPoints;
  if (!early && !midday) return {};
  return { windows: [early ? '* 4 * * *' : '* 5-6 * * *', ...(midday ? ['* 12 * * *'] : []), early ? '* 19 * * *' : '* 19-20 * * *'] };
}

export function generateCity(seed: number): InventoryInput {
  const rng = createRandom(seed);
  let euiCounter = 0;
  const eui = (prefix: string): string => `${prefix}${(++euiCounter).toString(16).padStart(16 - prefix.length, '0')}`;
  const names = shuffle(rng, NAME_HEADS.flatMap((h) => NAME_TAILS.map((t) => `${h}${t}`)));

  // Communities first, so facility counts can be dealt over the whole city.
  type Draft = { id: string; name: string; sub: string; district: string; manual: boolean; zones: number; facilities: FacilityType[] };
  const drafts: Draft[] = [];
  for (const d of CITY_SHAPE.districts) {
    const total = d.subDistricts.reduce((n, s) => n + s[2], 0);
    const manual = new Set(shuffle(rng, [...Array(total).keys()]).slice(0, d.handWatered));
    let i = 0;
    for (const [sub, , count] of d.subDistricts) {
      for (let n = 1; n <= count; n++, i++) {
        drafts.push({ id: `${sub}-${pad(n)}`, name: names[drafts.length] ?? `小区${drafts.length}`, sub, district: d.id, manual: manual.has(i), zones: 2 + Math.floor(rng() * 4), facilities: [] });
      }
    }
  }
  const zoneCount = drafts.reduce((n, c) => n + c.zones, 0);
  const manualOnes = drafts.filter((c) => c.manual);
  // Fitness equipment and benches go to the hand-watered communities, as the 2025 plan says.
  for (let i = 0; i < CITY_SHAPE.fitnessSets; i++) (manualOnes[i % manualOnes.length] as Draft).facilities.push('fitness_equipment');
  for (let i = 0; i < CITY_SHAPE.benches; i++) (manualOnes[(i * 6) % manualOnes.length] as Draft).facilities.push('bench');
  const rest = CITY_SHAPE.monitoredPoints - zoneCount - CITY_SHAPE.fitnessSets - CITY_SHAPE.benches;
  for (let i = 0; i < rest; i++) {
    const type = weighted<Exclude<FacilityType, 'fitness_equipment' | 'bench'>>(rng, { pavilion: 15, trellis_rope: 35, planter_trough: 40, other: 10 });
    (drafts[i < drafts.length ? i : Math.floor(rng() * drafts.length)] as Draft).facilities.push(type);
  }

  const rainBySub = new Map<string, string>();
  const community = (c: Draft): InventoryCommunity => {
    const gateway = `${c.id}-gw`;
    const devices: InventoryDevice[] = [{ id: gateway, kind: 'gateway', devEui: eui('0016c001'), reportIntervalS: 300 }];
    const zones: InventoryZone[] = [];
    for (let z = 1; z <= c.zones; z++) {
      const id = `${c.id}-z${z}`;
      const plant = weighted<PlantType>(rng, { ground_cover: 30, hedge: 20, shrubs: 20, trees: 15, lawn: 15 });
      const soil = weighted<SoilType>(rng, { sand: 40, loam: 45, clay: 15 }); // 白城: sandy, saline-alkaline soils
      const sensors = plant === 'trees' || plant === 'lawn' ? 2 : 1;
      for (let s = 1; s <= sensors; s++) devices.push({ id: `${id}-s${s}`, kind: 'soil', devEui: eui('24e12400'), reportIntervalS: 900, zone: id, gateway });
      if (!c.manual) devices.push({ id: `${id}-v`, kind: 'valve', devEui: eui('a8404100'), reportIntervalS: 600, zone: id, gateway });
      zones.push({
        id, name: `${pick(rng, SIDES)}${PLANT_NAMES[plant]}`, plant, mode: c.manual ? 'manual' : 'automatic', soil,
        band: zoneBand(rng, plant, soil),
        ...(c.manual ? {} : { valve: `${id}-v` }),
        ...zoneWindows(!c.manual && rng() < 0.1, plant, soil),
      });
    }
    const facilities: InventoryFacility[] = c.facilities.map((type, i) => {
      const id = `${c.id}-f${pad(i + 1)}`;
      devices.push({ id: `${id}-t`, kind: 'tilt', devEui: eui('24e12401'), reportIntervalS: 900, facility: id, gateway });
      const coords = { lat: round(45.62 + (rng() - 0.5) * 0.06, 5), lon: round(122.84 + (rng() - 0.5) * 0.08, 5) };
      return {
        id, name: FACILITY_NAMES[type], type,
        location: rng() < 0.5 ? { ...coords, description: `${pick(rng, SIDES)}` } : coords,
        ...(rng() < 0.6 ? { baseline: { pitch: round((rng() - 0.5) * 2, 1), roll: round((rng() - 0.5) * 2, 1) } } : {}),
        ...(type === 'pavilion' && rng() < 0.3 ? { thresholds: { warningDeg: 3, criticalDeg: 6 } } : {}),
      };
    });
    if (!rainBySub.has(c.sub)) {
      rainBySub.set(c.sub, c.id);
      devices.push({ id: `${c.sub}-rain`, kind: 'rain', devEui: eui('a8404101'), reportIntervalS: 1800, gateway });
    }
    return { id: c.id, name: c.name, zones: byId(zones), facilities: byId(facilities), devices: byId(devices) };
  };

  const districts = CITY_SHAPE.districts.map((d) => ({
    id: d.id, name: d.name,
    subDistricts: byId(d.subDistricts.map(([sub, name]) => ({
      id: `${d.id}-${sub}`, name, communities: byId(drafts.filter((c) => c.sub === sub).map(community)),
    }))),
  }));

  const teamOf = (id: string, name: string, subs: string[], channel: Team['channels'][number]['channel'], techs: number): Team => ({
    id, name,
    communities: drafts.filter((c) => subs.includes(c.sub)).map((c) => c.id).sort(),
    channels: [{ channel, minSeverity: 'warning' }],
    supervisorChannels: [{ channel: { type: 'email', to: [`${id}-lead@example.com`] }, minSeverity: 'critical' }],
    technicians: [...Array(techs).keys()].map((i) => ({ id: `${id}-tech${i + 1}`, name: `${name}技术员${i + 1}`, phone: `1390000${pad(drafts.length + i, 4)}` })),
  });
  const teams = byId([
    teamOf('team-taobei-1', '洮北养护一队', ['mingren', 'ruiguang'], { type: 'webhook', url: 'https://ops.example.com/hooks/taobei-1', secret: 'change-me-taobei-1' }, 3),
    teamOf('team-taobei-2', '洮北养护二队', ['xinhua', 'changqing'], { type: 'wecom', key: 'wecom-robot-key-taobei-2' }, 3),
    teamOf('team-taobei-3', '洮北养护三队', ['tiedong', 'haiming'], { type: 'dingtalk', accessToken: 'dingtalk-token-taobei-3', secret: 'SECdingtalk3' }, 3),
    teamOf('team-taobei-4', '洮北养护四队', ['xinli', 'baosheng'], { type: 'feishu', token: 'feishu-hook-taobei-4', secret: 'feishu-secret-4' }, 3),
    teamOf('team-jingkai', '经开区养护队', ['xingfu', 'xinxing'], { type: 'webhook', url: 'https://ops.example.com/hooks/jingkai' }, 2),
    teamOf('team-gongye', '工业园区养护队', ['yuanqu'], { type: 'wecom', key: 'wecom-robot-key-gongye' }, 2),
  ]);
  return { version: 1, districts: byId(districts), teams };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''));
if (isMain) {
  const args = process.argv.slice(2);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args.splice(seedAt, 2)[1]) : 2025;
  const out = args[0] ?? 'inventory/examples/city.yaml';
  const checked = validateInventory(generateCity(seed), out);
  if (!checked.ok) throw new Error(checked.error.map(formatProblem).join('\n'));
  const header = `# Generated by inventory/generate-city.ts --seed ${seed}; do not edit by hand.\n# The city's shape follows 白住建议字〔2025〕3号; community names, coordinates and EUIs are made up.\n`;
  writeFileSync(out, header + formatInventory(checked.value));
  process.stdout.write(`${out}\n`);
}
