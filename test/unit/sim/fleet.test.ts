import { describe, expect, it } from 'vitest';
import { DeviceRegistration, FACILITY_TYPES } from '../../../contracts/device.ts';
import { generateFleet } from '../../../firmware-sim/fleet/generate.ts';
import { loadFleetFile } from '../../../firmware-sim/fleet/load.ts';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { CredentialsFile } from '../../../firmware-sim/fleet/provision.ts';
import { createRandom } from '../../../lib/random.ts';

const options = { communities: 5, zonesPerCommunity: 3, sensorsPerZone: 2, automaticShare: 0.5, districts: 2, settlingShare: 0.2 };

describe('fleet', () => {
  it('generates N communities × zones × sensors, a tilt sensor per facility type, valves in automatic zones', () => {
    const fleet = generateFleet(options, createRandom(1));
    const devices = listDevices(fleet);
    const automatic = fleet.communities.flatMap((c) => c.zones).filter((z) => z.mode === 'automatic').length;
    expect(devices.filter((d) => d.kind === 'soil')).toHaveLength(5 * 3 * 2);
    expect(devices.filter((d) => d.kind === 'valve')).toHaveLength(automatic);
    expect(automatic).toBeGreaterThan(0);
    expect(automatic).toBeLessThan(15);
    const types = new Set(fleet.communities[0]!.facilities.map((f) => f.type));
    expect(types).toEqual(new Set(FACILITY_TYPES.filter((t) => t !== 'other')));
    expect(devices.filter((d) => d.kind === 'tilt')).toHaveLength(5 * types.size);
    expect(devices.filter((d) => d.kind === 'gateway').map((d) => d.id)).toEqual(['c001-gw', 'c002-gw', 'c003-gw', 'c004-gw', 'c005-gw']);
    expect(new Set(devices.map((d) => d.id)).size).toBe(devices.length);
    expect(new Set(devices.map((d) => d.devEui)).size).toBe(devices.length);
    expect(generateFleet(options, createRandom(1))).toEqual(fleet);
  });

  it('produces registrations the API accepts', () => {
    for (const d of listDevices(generateFleet(options, createRandom(2)))) {
      const parsed = DeviceRegistration.safeParse(d.registration);
      expect(parsed.success, `${d.id}: ${parsed.error?.message}`).toBe(true);
    }
  });

  it('loads the example fleet file', () => {
    const fleet = loadFleetFile(new URL('../../../firmware-sim/fleets/example.yaml', import.meta.url).pathname);
    const ids = listDevices(fleet).map((d) => d.id);
    expect(ids).toContain('c001-lawn-east-v');
    expect(ids).toContain('c001-pavilion-t2');
    expect(ids).not.toContain('c001-hedge-north-v');
  });

  it('refuses duplicate place ids and unknown fields, naming them', () => {
    const bad = FleetSpec.safeParse({ communities: [{ id: 'c', district: 'd', zones: [{ id: 'z' }], facilities: [{ id: 'z', type: 'bench', colour: 'red' }] }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.message).join('; ')).toMatch(/colour/);
    const dup = FleetSpec.safeParse({ communities: [{ id: 'c', district: 'd', zones: [{ id: 'z' }], facilities: [{ id: 'z', type: 'bench' }] }] });
    expect(dup.error!.issues[0]!.message).toMatch(/z is used twice/);
  });

  it.each([
    [{ 'a-1': 's1' }, true],
    [[{ id: 'a-1', secret: 's1' }], true],
    [[{ id: 'a-1' }], false],
    [{ 'a-1': '' }, false],
  ])('reads credentials %j: valid=%s', (body, valid) => {
    expect(CredentialsFile.safeParse(body).success).toBe(valid);
  });
});
