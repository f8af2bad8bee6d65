import { z } from 'zod';
import type { WeatherForZone } from '../contracts/weather.ts';

export const LocationBy = z.enum(['community', 'district']);
export type LocationBy = z.infer<typeof LocationBy>;

export type ZoneLocation = NonNullable<WeatherForZone['location']>;

export interface Places {
  zones: Array<{ id: string; communityId: string; districtId: string }>;
  /** Facilities carry the inventory's coordinates (communities and zones have none of their own). */
  facilities: Array<{ communityId: string; districtId: string; location?: { lat?: number; lon?: number } }>;
}

// Two decimals ≈ 1 km: finer than any weather model's grid (Open-Meteo's finest is ~1–2 km),
// so places that close share one request and one cache row.
const keyOf = (lat: number, lon: number) => `${lat.toFixed(2)},${lon.toFixed(2)}`;

const centre = (points: Array<{ lat: number; lon: number }>) => ({
  lat: points.reduce((s, p) => s + p.lat, 0) / points.length,
  lon: points.reduce((s, p) => s + p.lon, 0) / points.length,
});

/**
 * Where each zone's weather comes from: its community's place (the centre of the community's
 * facilities with coordinates), else its district's (the centre of the district's), else the
 * configured default. `by: 'district'` skips the community level: one request per district.
 * Zones with none of the three are left out (the port answers `source: 'none'` for them).
 */
export function resolveZoneLocations(places: Places, by: LocationBy, fallback: { lat: number; lon: number } | undefined): Map<string, ZoneLocation> {
  const byCommunity = new Map<string, Array<{ lat: number; lon: number }>>();
  const byDistrict = new Map<string, Array<{ lat: number; lon: number }>>();
  for (const f of places.facilities) {
    const { lat, lon } = f.location ?? {};
    if (lat === undefined || lon === undefined) continue;
    for (const [map, id] of [[byCommunity, f.communityId], [byDistrict, f.districtId]] as const) {
      const list = map.get(id) ?? [];
      list.push({ lat, lon });
      map.set(id, list);
    }
  }
  const out = new Map<string, ZoneLocation>();
  for (const zone of places.zones) {
    const community = by === 'community' ? byCommunity.get(zone.communityId) : undefined;
    const district = byDistrict.get(zone.districtId);
    const picked = community ? { ...centre(community), from: 'community' as const }
      : district ? { ...centre(district), from: 'district' as const }
        : fallback ? { ...fallback, from: 'default' as const } : undefined;
    if (!picked) continue;
    const lat = Number(picked.lat.toFixed(2));
    const lon = Number(picked.lon.toFixed(2));
    out.set(zone.id, { key: keyOf(lat, lon), lat, lon, from: picked.from });
  }
  return out;
}
