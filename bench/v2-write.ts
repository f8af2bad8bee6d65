import { InfluxDB, Point, type HttpError } from '@influxdata/influxdb-client';
import { createInfluxHttp, type InfluxTarget } from '../influx/http.ts';
import { seriesKey, toLineWithSeries } from '../influx/line-protocol.ts';

/**
 * The v2 write path's parts, each way measured (BENCHMARKS.md, "InfluxDB 2.x write path"):
 * building a line (our encoder, or the official client's Point), and shipping a batch as
 * the shipper holds it — the durable log's bytes — to `/api/v2/write` of the 2.x stand-in
 * (a process of its own): our fetch with gzip, the client's transport, the client's
 * WriteApi (retries off: the durable log owns them). Figures are this process's CPU (ns) per
 * line (the sender's cost, the server's excluded) and lines per second of wall time.
 */
export interface V2WriteFigures { [figure: string]: number }

const BATCH = 5_000;
const BATCHES = 20;

function batches(start: number): Buffer[] {
  const series = seriesKey('soil', { community: 'c1', device: 'bench-1', district: 'd1', plant: 'lawn', zone: 'z1' });
  return Array.from({ length: BATCHES }, (_, b) =>
    Buffer.from(Array.from({ length: BATCH }, (_, i) => toLineWithSeries(series, { moisture: 20 + (i % 17) / 2, temperature: 18.25, seq: i }, start + b * BATCH + i)).join('\n')));
}

async function timed(send: (body: Buffer) => Promise<void>, bodies: Buffer[]): Promise<{ cpuNsPerLine: number; linesPerS: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const body of bodies) await send(body);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const lines = bodies.length * BATCH;
  return { cpuNsPerLine: ((cpu.user + cpu.system) * 1000) / lines, linesPerS: lines / wallS };
}

export async function benchV2Write(target: Required<Pick<InfluxTarget, 'url' | 'org' | 'bucket' | 'token'>> & { db: string }, startMs: number): Promise<V2WriteFigures> {
  const figures: V2WriteFigures = {};
  // Line building: the same point, each way.
  const n = 200_000;
  const tags = { community: 'c1', device: 'bench-1', district: 'd1', plant: 'lawn', zone: 'z1' };
  let sink = 0;
  let c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += toLineWithSeries(seriesKey('soil', tags), { moisture: 20.5, temperature: 18.25, seq: i }, startMs + i).length;
  figures.v2_line_ours_ns = (cpuUs(c0) * 1000) / n;
  // As the hot path builds it: the series key cached per device (ingest/topic-cache.ts).
  const series = seriesKey('soil', tags);
  c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += toLineWithSeries(series, { moisture: 20.5, temperature: 18.25, seq: i }, startMs + i).length;
  figures.v2_line_ours_cached_series_ns = (cpuUs(c0) * 1000) / n;
  c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const p = new Point('soil');
    for (const [k, v] of Object.entries(tags)) p.tag(k, v);
    sink += (p.floatField('moisture', 20.5).floatField('temperature', 18.25).floatField('seq', i).timestamp(startMs + i).toLineProtocol() ?? '').length;
  }
  figures.v2_line_client_point_ns = (cpuUs(c0) * 1000) / n;
  if (sink === 0) throw new Error('nothing built');

  const ours = createInfluxHttp({ ...target, api: 'v2' });
  const client = new InfluxDB({ url: target.url, token: target.token, timeout: 10_000 });
  const path = `/api/v2/write?${new URLSearchParams({ org: target.org, bucket: target.bucket, precision: 'ms' })}`;
  const writeApi = client.getWriteApi(target.org, target.bucket, 'ms', { batchSize: BATCH + 1, flushInterval: 0, maxRetries: 0, maxBufferLines: BATCH, gzipThreshold: 1000 });
  const ways: Array<[string, (body: Buffer) => Promise<void>]> = [
    ['fetch', async (body) => {
      const outcome = await ours.write(body);
      if (outcome.kind !== 'ok') throw new Error(`fetch: ${JSON.stringify(outcome)}`);
    }],
    ['client_transport', async (body) => {
      await client.transport.request(path, body.toString('utf8'), { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, gzipThreshold: 1000 })
        .catch((error: HttpError) => { throw new Error(`client transport: ${error.statusCode} ${error.body}`); });
    }],
    ['client_writeapi', async (body) => {
      writeApi.writeRecords(body.toString('utf8').split('\n'));
      await writeApi.flush();
    }],
  ];
  for (const [round, [name, send]] of ways.entries()) {
    // A warm-up batch, then the measured ones; each way its own timestamps (no overwrite).
    await send(batches(startMs + 10_000_000 * (round + 1))[0]!);
    const result = await timed(send, batches(startMs + 10_000_000 * (round + 1) + BATCH));
    figures[`v2_write_${name}_cpu_ns_per_line`] = result.cpuNsPerLine;
    figures[`v2_write_${name}_lines_s`] = result.linesPerS;
  }
  await writeApi.close();
  return figures;
}

const cpuUs = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return d.user + d.system;
};
