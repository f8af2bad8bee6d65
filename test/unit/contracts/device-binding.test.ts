import { describe, expect, it } from 'vitest';
import { DeviceRegistration, LorawanApplication } from '../../../contracts/device.ts';
import { InventoryDevice } from '../../../contracts/inventory.ts';

describe('a LoRaWAN application binding', () => {
  it.each(['17c82e96-be03-4f38-aef3-f83d48582d97', '42', 'greenspace-soil@ttn', 'parks@city-tenant'])('accepts %s', (app) => {
    expect(LorawanApplication.safeParse(app).success).toBe(true);
  });

  it.each(['', 'app/+', 'app/#', 'a b', 'Parks@ttn', 'parks@', '@ttn', 'x'.repeat(65)])('refuses %j', (app) => {
    expect(LorawanApplication.safeParse(app).success).toBe(false);
  });

  it.each([
    ['a registration', DeviceRegistration, { id: 'soil-1', kind: 'soil' }],
    ['an inventory device', InventoryDevice, { id: 'soil-1', kind: 'soil', zone: 'z1' }],
  ] as const)('in %s, needs a dev EUI: the error names the field', (_, schema, base) => {
    const bare = schema.safeParse({ ...base, lorawanApplication: 'greenspace-soil@ttn' });
    expect(bare.success).toBe(false);
    expect(bare.error?.issues).toEqual([expect.objectContaining({ path: ['lorawanApplication'], message: expect.stringContaining("needs the device's devEui") })]);
    expect(schema.safeParse({ ...base, devEui: '24E124126C470001', lorawanApplication: 'greenspace-soil@ttn' }).success).toBe(true);
  });
});
