import { describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createGatewayLookup } from '../../../health/gateway-lookup.ts';

describe('gateway lookup over the registry', () => {
  const seed = () => {
    const db = openDb(':memory:');
    db.exec(`INSERT INTO districts (id, name) VALUES ('d', 'd'); INSERT INTO communities (id, district_id, name) VALUES ('c', 'd', 'c');
      INSERT INTO devices (id, kind, secret_hash, community_id, created_at) VALUES ('gw-1', 'gateway', 'x', 'c', ''), ('s-1', 'soil', 'x', 'c', '')`);
    return db;
  };

  it('answers nothing for a device without a gateway', () => {
    expect(createGatewayLookup(seed(), createManualClock(0)).gatewayOf('s-1')).toBeUndefined();
  });

  it('reads devices.gateway_id, reloading after the TTL', () => {
    const db = seed();
    db.exec(`UPDATE devices SET gateway_id = 'gw-1' WHERE id = 's-1'`);
    const clock = createManualClock(0);
    const lookup = createGatewayLookup(db, clock, 1000);
    expect(lookup.gatewayOf('s-1')).toBe('gw-1');
    db.exec(`UPDATE devices SET gateway_id = 'gw-2' WHERE id = 's-1'`);
    clock.advance(999);
    expect(lookup.gatewayOf('s-1')).toBe('gw-1');
    clock.advance(1);
    expect(lookup.gatewayOf('s-1')).toBe('gw-2');
  });
});
