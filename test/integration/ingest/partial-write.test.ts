import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDurableLog } from '../../../durable-log/durable-log.ts';
import { createInfluxShipper } from '../../../durable-log/influx-shipper.ts';
import { createInfluxHttp } from '../../../influx/http.ts';
import { systemClock } from '../../../lib/clock.ts';
import { sleep } from '../../../lib/sleep.ts';
import { createLogger } from '../../../lib/logger.ts';
import { eventually, queryRows } from '../../helpers/app.ts';
import { INFLUX_APIS, influxServer, type InfluxServer } from '../../helpers/influx-server.ts';

// 1.x answers a partial write 400, 2.x 422 (the valid points stored either way).
describe.each(INFLUX_APIS)('InfluxDB refusing some points of a batch (partial write, %s write API)', (api) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-partial-'));
  let server: InfluxServer | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dead-letters exactly the refused points and stores the rest once', async () => {
    server = await influxServer(api, { mapped: true });
    const influx = createInfluxHttp(server.target);
    await influx.createDatabase();
    // Another writer fixed `moisture` as a string in this shard: our floats now conflict.
    expect(await influx.write('soil,device=legacy moisture="wet" 1700000000000')).toEqual({ kind: 'ok' });

    const log = await openDurableLog({ dir, clock: systemClock, fsync: true, maxBytes: 1e9, onDrop: () => undefined });
    const refused: Array<{ line: string; message: string }> = [];
    let written = 0;
    const shipper = createInfluxShipper({
      log, influx, batchSize: 100, flushMs: 10, logger: createLogger('silent'),
      metrics: { pointsWritten: (n) => { written += n; }, writeError: () => undefined, writeDuration: () => undefined, influxUp: () => undefined },
      onRefused: (line, message) => refused.push({ line, message }),
      sleep, random: () => 0.5, now: () => Date.now(),
    });
    const good = Array.from({ length: 40 }, (_, i) => `tilt,device=t${i % 4} pitch=${i} ${1700000001000 + i}`);
    const bad = [`soil,device=s1 moisture=21 1700000002000`, `soil,device=s2 moisture=22 1700000002001`, `soil,device=s3 moisture=23 1700000002002`];
    await log.append([...good.slice(0, 10), bad[0]!, ...good.slice(10, 25), bad[1]!, bad[2]!, ...good.slice(25)]);
    shipper.start();
    await eventually(() => (log.backlog().lines === 0 ? true : undefined), 10_000, 'the batch to be settled');
    await shipper.stop();
    await log.close();

    expect(refused.map((r) => r.line).sort()).toEqual(bad);
    expect(refused[0]!.message).toMatch(api === 'v2' ? /^failure writing points to database: partial write: field type conflict/ : /field type conflict/);
    if (server.standin) expect(server.standin.requests()['POST /api/v2/write']).toBeGreaterThan(3); // split down to the refused points
    expect(written).toBe(40);
    const rows = await queryRows(influx, 'SELECT count(pitch) FROM tilt');
    expect(rows[0]?.count).toBe(40);
  });
});
