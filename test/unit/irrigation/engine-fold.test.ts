import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createIrrigationEngine } from '../../../irrigation/engine.ts';
import { createIrrigationStore } from '../../../irrigation/store.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import type { ZoneSource } from '../../../irrigation/zone-source.ts';
import type { ZoneConfig } from '../../../contracts/zone.ts';
import type { DeviceInfo } from '../../../contracts/device.ts';
import { soilDevice } from '../../fixtures/devices.ts';
import type { AcceptedReading } from '../../../contracts/reading.ts';

const T0 = Date.parse('2026-07-01T02:00:00Z');
// A manual zone: the engine folds and evaluates, and nothing it decides needs a valve.
const ZONE: ZoneConfig = { id: 'z-1', communityId: 'c-1', districtId: 'd-1', name: '一号绿地', plant: 'lawn', mode: 'manual', soil: 'loam' };
const zones: ZoneSource = { get: (id) => (id === ZONE.id ? ZONE : undefined), list: () => [ZONE], listByCommunity: () => [ZONE], zoneOfValve: () => undefined };
const sensor = (id: string): DeviceInfo => soilDevice({ id, districtId: 'd-1', communityId: 'c-1', zoneId: ZONE.id });
const reading = (deviceId: string, ts: number, moisture: number): AcceptedReading => ({ deviceId, ts, receivedAt: ts, dedupKey: undefined, kind: 'soil', source: 'native', fields: { moisture, temperature: 20 } });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('irrigation engine: soil readings folded per turn', () => {
  let dir: string;
  let db: Db;
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function engine() {
    dir = mkdtempSync(join(tmpdir(), 'gs-engine-'));
    db = openDb(join(dir, 'greenspace.db'));
    const logger = createLogger('silent');
    return createIrrigationEngine({
      zones, store: createIrrigationStore(sqliteSqlOf(db), logger), publish: async () => undefined, appendLines: async () => undefined,
      signal: () => undefined, clock: createManualClock(T0 + 3_600_000), logger,
    });
  }

  it('counts every reading of a turn, the late ones excepted', async () => {
    const e = engine();
    const a = sensor('soil-a');
    const b = sensor('soil-b');
    for (let i = 0; i < 5; i++) e.onReading(reading('soil-a', T0 + i * 1_000, 21.5), a);
    e.onReading(reading('soil-b', T0, 30), b);
    e.onReading(reading('soil-a', T0 - 60_000, 40), a); // older than what the zone holds: ignored
    e.onReading(reading('soil-b', T0 + 1_000, 31), b);
    await turn();
    const { sensors } = e.status(ZONE.id)!.state;
    expect(sensors['soil-a']).toMatchObject({ lastAt: T0 + 4_000, moisture: 21.5, sameCount: 5 });
    expect(sensors['soil-b']).toMatchObject({ lastAt: T0 + 1_000, moisture: 31, sameCount: 1 });
  });

  it('never changes a state it handed out', async () => {
    const e = engine();
    const a = sensor('soil-a');
    e.onReading(reading('soil-a', T0, 21), a);
    const seen = e.status(ZONE.id)!.state; // before the turn's evaluation
    const copy = structuredClone(seen);
    e.onReading(reading('soil-a', T0 + 1_000, 22), a); // same turn
    e.onReading(reading('soil-a', T0 + 2_000, 23), a);
    expect(seen).toEqual(copy);
    await turn();
    expect(seen).toEqual(copy);
    expect(e.status(ZONE.id)!.state.sensors['soil-a']).toMatchObject({ lastAt: T0 + 2_000, moisture: 23 });
    e.stop();
  });
});
