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
import type { LatestSoil, SoilEvent } from '../../../irrigation/latest-soil.ts';
import { initialZoneState } from '../../../rules/irrigation/state.ts';
import { trackReading } from '../../../rules/irrigation/zone-state.ts';

const T0 = Date.parse('2026-07-01T02:00:00Z');
// A manual zone: the engine folds and evaluates, and nothing it decides needs a valve.
const ZONE: ZoneConfig = { id: 'z-1', communityId: 'c-1', districtId: 'd-1', name: '一号绿地', plant: 'lawn', mode: 'manual', soil: 'loam' };
const zones: ZoneSource = { get: (id) => (id === ZONE.id ? ZONE : undefined), list: () => [ZONE], listByCommunity: () => [ZONE], zoneOfValve: () => undefined };
const soil = (deviceId: string, at: number, moisture: number): SoilEvent => ({ type: 'soil', deviceId, at, moisture, temperature: 20, intervalS: 600 });
const until = async (check: () => boolean) => { for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 5)); };

/**
 * A zone taken over (engine.adopt): its state restored from the store, then each sensor's
 * latest reading from InfluxDB (`latestSoil`) folded in where newer than the restored track.
 */
describe('irrigation takeover: the sensors caught up from InfluxDB', () => {
  let dir: string;
  let db: Db;
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function engine(latestSoil: LatestSoil) {
    dir = mkdtempSync(join(tmpdir(), 'gs-catch-up-'));
    db = openDb(join(dir, 'greenspace.db'));
    const logger = createLogger('silent');
    const store = createIrrigationStore(sqliteSqlOf(db), logger);
    // The previous owner's last write: soil-a at 30 % (T0), soil-b at 32 % (T0).
    const stored = { ...initialZoneState(ZONE.id), sensors: { 'soil-a': trackReading(undefined, soil('soil-a', T0, 30)), 'soil-b': trackReading(undefined, soil('soil-b', T0, 32)) } };
    await store.saveStates([stored], T0);
    return createIrrigationEngine({
      zones, store, publish: async () => undefined, appendLines: async () => undefined, signal: () => undefined,
      clock: createManualClock(T0 + 60_000), logger, sharedStore: true, latestSoil, catchUpDelayMs: 60_000,
    });
  }

  it('folds in a reading newer than the restored track, and no reading at or before it', async () => {
    let asked: readonly string[] = [];
    const e = await engine(async (zoneIds) => {
      asked = zoneIds;
      return [
        { zoneId: ZONE.id, event: soil('soil-a', T0 + 30_000, 12) }, // newer than the stored track
        { zoneId: ZONE.id, event: soil('soil-b', T0, 32) }, // the stored track itself: not counted again
      ];
    });
    await e.adopt([ZONE.id]);
    await until(() => e.stateOf(ZONE.id)?.sensors['soil-a']?.moisture === 12);
    expect(asked).toEqual([ZONE.id]);
    const { sensors } = e.status(ZONE.id)!.state;
    expect(sensors['soil-a']).toMatchObject({ lastAt: T0 + 30_000, moisture: 12, sameCount: 1 });
    expect(sensors['soil-b']).toMatchObject({ lastAt: T0, moisture: 32, sameCount: 1 });
    await e.stop();
  });

  it('InfluxDB not answering: the takeover goes on from the restored state', async () => {
    let calls = 0;
    const e = await engine(async () => { calls++; throw new Error('connect ECONNREFUSED'); });
    await e.adopt([ZONE.id]);
    await until(() => calls > 0);
    expect(calls).toBe(1);
    expect(e.isOwned(ZONE.id)).toBe(true);
    expect(e.status(ZONE.id)!.state.sensors['soil-a']).toMatchObject({ lastAt: T0, moisture: 30 });
    await e.stop();
  });
});
