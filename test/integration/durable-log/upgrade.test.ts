import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';

describe('an upgrade from a data dir where the durable log was ./data/wal', () => {
  let t: TestApp | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-upgrade-'));
  afterAll(async () => {
    await t?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ships the points that were waiting there, from the new directory', async () => {
    // Two points left unshipped by the old version (InfluxDB was away when it stopped).
    const ts = Date.now() - 60_000; // ms: the log holds points as the shipper writes them (precision=ms)
    const birth = String(Date.now() - 60_000).padStart(13, '0');
    mkdirSync(join(dataDir, 'wal'));
    writeFileSync(join(dataDir, 'wal', `000000000003-${birth}.wal`), `upgrade_probe v=1i ${ts}\nupgrade_probe v=2i ${ts + 1}\n`);
    writeFileSync(join(dataDir, 'wal', 'cursor.json'), JSON.stringify({ segment: 3, offset: 0, line: 0 }));
    t = await startTestApp({}, { dataDir });
    const app = t;
    const rows = await eventually(async () => {
      const found = await queryRows(app.influx, 'SELECT v FROM upgrade_probe').catch(() => []);
      return found.length === 2 ? found : undefined;
    }, 10_000, 'the old points in InfluxDB');
    expect(rows.map((r) => r.v)).toEqual([1, 2]);
    expect(existsSync(join(dataDir, 'wal'))).toBe(false);
    expect(readdirSync(join(dataDir, 'durable-log')).some((f) => f.endsWith('.wal'))).toBe(false);
  });
});
