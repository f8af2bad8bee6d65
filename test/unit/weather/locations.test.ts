import { describe, expect, it } from 'vitest';
import { resolveZoneLocations, type Places } from '../../../weather/locations.ts';

const places: Places = {
  zones: [
    { id: 'z-a', communityId: 'c-a', districtId: 'd1' },
    { id: 'z-b', communityId: 'c-b', districtId: 'd1' }, // a community without coordinates
    { id: 'z-c', communityId: 'c-c', districtId: 'd2' }, // a district without any
  ],
  facilities: [
    { communityId: 'c-a', districtId: 'd1', location: { lat: 45.601, lon: 122.81 } },
    { communityId: 'c-a', districtId: 'd1', location: { lat: 45.621, lon: 122.83 } },
    { communityId: 'c-a', districtId: 'd1' },
    { communityId: 'c-x', districtId: 'd1', location: { lat: 45.661, lon: 122.88 } },
    { communityId: 'c-c', districtId: 'd2', location: {} },
  ],
};

describe('resolveZoneLocations', () => {
  it('places a zone at its community, else its district, else the default, rounded to ~1 km', () => {
    const found = resolveZoneLocations(places, 'community', { lat: 45.7, lon: 122.9 });
    expect(Object.fromEntries(found)).toEqual({
      'z-a': { key: '45.61,122.82', lat: 45.61, lon: 122.82, from: 'community' },
      'z-b': { key: '45.63,122.84', lat: 45.63, lon: 122.84, from: 'district' },
      'z-c': { key: '45.70,122.90', lat: 45.7, lon: 122.9, from: 'default' },
    });
  });

  it('uses districts only when asked, and leaves out zones with no place at all', () => {
    const found = resolveZoneLocations(places, 'district', undefined);
    expect([...found.keys()]).toEqual(['z-a', 'z-b']);
    const district = { key: '45.63,122.84', lat: 45.63, lon: 122.84, from: 'district' };
    expect(found.get('z-a')).toEqual(district);
    expect(found.get('z-b')).toEqual(district);
  });
});
