import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createInfluxHttp, type InfluxTarget } from '../../../influx/http.ts';
import { checkInfluxServer } from '../../../influx/server-checks.ts';
import { startInfluxV2Standin, type InfluxV2Standin } from '../../../influx/v2-standin.ts';
import { queryRows } from '../../helpers/app.ts';
import { V2_ORG, V2_TOKEN, V2_TOKENS } from '../../helpers/influx-server.ts';

const NAMES = { api: 'GS_INFLUX_API', url: 'GS_INFLUX_URL', db: 'GS_INFLUX_DB', org: 'GS_INFLUX_ORG', bucket: 'GS_INFLUX_BUCKET', token: 'GS_INFLUX_TOKEN' };

/** The v2 write outcomes the shipper acts on, and the DBRP check, against the 2.x stand-in. */
describe('the v2 write API through createInfluxHttp', () => {
  let standin: InfluxV2Standin;
  let target: InfluxTarget;
  beforeAll(async () => {
    standin = await startInfluxV2Standin({ upstream: inject('influxUrl'), org: V2_ORG, buckets: ['v2api'], tokens: V2_TOKENS, maxBodyBytes: 64 * 1024 });
    target = { url: standin.url, db: 'v2api_db', api: 'v2', org: V2_ORG, bucket: 'v2api', token: V2_TOKEN };
  });
  afterAll(async () => standin?.close());

  it('creates the DBRP mapping once, then finds it; queries read the bucket through it', async () => {
    expect(await checkInfluxServer(target, NAMES)).toEqual({ reachable: true, version: 'v2.7.11', dbrp: 'created' });
    expect(await checkInfluxServer(target, NAMES)).toEqual({ reachable: true, version: 'v2.7.11', dbrp: 'found' });
    const influx = createInfluxHttp(target);
    expect(await influx.write('soil,device=a moisture=20 1700000000000\nsoil,device=b moisture=21 1700000000001')).toEqual({ kind: 'ok' });
    expect(await queryRows(influx, 'SELECT count(moisture) FROM soil')).toEqual([expect.objectContaining({ count: 2 })]);
  });

  it('gzips a body past 1 kB, not a small one', async () => {
    const influx = createInfluxHttp(target);
    const before = standin.requests().gzipped ?? 0;
    expect(await influx.write('tilt,device=t pitch=1 1700000000000')).toEqual({ kind: 'ok' });
    expect(standin.requests().gzipped ?? 0).toBe(before);
    const many = Array.from({ length: 100 }, (_, i) => `tilt,device=t pitch=${i} ${1700000001000 + i}`).join('\n');
    expect(await influx.write(many)).toEqual({ kind: 'ok' });
    expect(standin.requests().gzipped).toBe(before + 1);
  });

  it.each([
    ['a malformed line: refused (400), to be isolated', 'soil,device=a moisture= 1700000000000', { kind: 'refused', status: 400, message: expect.stringMatching(/unable to parse|invalid|missing field value/) }],
    ['a body over the server\'s limit: too large (413), to be split', `soil,device=a moisture=1 ${'1'.repeat(13)}\n`.repeat(5_000), { kind: 'too_large', message: 'unable to read data: points batch is too large' }],
  ])('%s', async (_what, body, outcome) => {
    expect(await createInfluxHttp(target).write(body)).toEqual(outcome);
  });

  it.each([
    ['a token it refuses (401)', { token: 'nope' }, 401],
    ['a token that may not write (403)', { token: 'standin-token-read-only' }, 403],
    ['an unknown bucket (404)', { bucket: 'gone' }, 404],
  ])('keeps the points for later on %s', async (_what, change, status) => {
    expect(await createInfluxHttp({ ...target, ...change }).write('soil,device=a moisture=1 1700000000000')).toEqual({ kind: 'retry', status, message: expect.any(String) });
  });

  it('creates no database on the v2 API (buckets are the operator\'s)', async () => {
    const before = standin.requests()['POST /query'] ?? 0;
    await createInfluxHttp(target).createDatabase();
    expect(standin.requests()['POST /query'] ?? 0).toBe(before);
  });
});

// Only the app's side of 3.x: a server saying it is 3.x (X-Influxdb-Version) gets no DBRP
// lookup, and the query database must be the bucket. A real 3.x was not tested (README).
describe('a server that says it is InfluxDB 3.x', () => {
  let standin: InfluxV2Standin;
  beforeAll(async () => {
    standin = await startInfluxV2Standin({ upstream: inject('influxUrl'), org: V2_ORG, buckets: ['city'], tokens: V2_TOKENS, version: '3.1.0' });
  });
  afterAll(async () => standin?.close());

  it('needs GS_INFLUX_DB to be the bucket, and looks for no mapping', async () => {
    const target: InfluxTarget = { url: standin.url, db: 'greenspace', api: 'v2', org: V2_ORG, bucket: 'city', token: V2_TOKEN };
    await expect(checkInfluxServer(target, NAMES)).rejects.toThrow('GS_INFLUX_DB "greenspace": on InfluxDB 3.x the database InfluxQL queries read is the bucket: set GS_INFLUX_DB to "city" (GS_INFLUX_BUCKET)');
    expect(await checkInfluxServer({ ...target, db: 'city' }, NAMES)).toEqual({ reachable: true, version: '3.1.0', dbrp: 'not_needed' });
    expect(standin.requests()['GET /api/v2/dbrps']).toBeUndefined();
  });
});
