import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startInfluxd } from '../../influx/influxd-process.ts';

describe('the managed influxd process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-influxd-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says why when the binary cannot be started (an unhandled spawn error used to crash the process)', async () => {
    const started = Date.now();
    await expect(startInfluxd({ dir, port: await freePort(), binary: '/nonexistent/influxd', startTimeoutMs: 20_000 })).rejects.toThrow(/influxd could not start \(spawn \/nonexistent\/influxd ENOENT\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
