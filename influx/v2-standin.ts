import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';

/**
 * A stand-in for InfluxDB 2.x, for the test suite and the bench (InfluxDB 2.x is not in
 * this machine's package sources): the parts of the 2.x HTTP API the app uses, answered
 * as 2.x's own handlers answer (influxdata/influxdb 2.8: http/write_handler.go,
 * dbrp/http_server_dbrp.go, kit/transport/http/error_handler.go — `{code, message}` JSON
 * bodies with 2.x's codes and messages), over a real 1.x influxd that stores the points and
 * runs the InfluxQL. Beside influxd-process.ts for the same reason: tests and tools share it.
 *
 * One organisation and its buckets; tokens with their permissions; DBRP mappings.
 * `/api/v2/write` (org, bucket, precision, gzip, `Authorization: Token`), `/write` and
 * `/query` through a mapping (the v1 compatibility API), `/api/v2/buckets`,
 * `/api/v2/dbrps`, `/ping`, `/health`. `close()` and `listen()` again on the same port
 * stand for an outage; the lines it accepted are kept (a point written twice shows).
 */
export interface StandinToken { write: boolean; createDbrp: boolean }

export interface StandinOptions {
  /** A 1.x influxd: stores the points (database `b` + the bucket's ID) and answers the InfluxQL. */
  upstream: string;
  org: string;
  buckets: string[];
  tokens: Record<string, StandinToken>;
  /** `database → bucket name`, as if made before. */
  mappings?: Record<string, string>;
  version?: string;
  /** Bodies larger than this are refused with 413 (2.x's max-batch-size-bytes). */
  maxBodyBytes?: number;
}

interface Dbrp { id: string; database: string; retention_policy: string; default: boolean; virtual: boolean; orgID: string; bucketID: string }

export type InfluxV2Standin = Awaited<ReturnType<typeof startInfluxV2Standin>>;

const ORG_ID = '0a1b2c3d4e5f6071';
/** 2.x IDs are 16 hex digits; random, so stand-ins over one influxd never share a database. */
const newId = (): string => randomBytes(8).toString('hex');
const PRECISIONS = new Set(['ns', 'us', 'ms', 's']);

type State = ReturnType<typeof createState>;

function createState(options: StandinOptions) {
  const upstream = options.upstream.replace(/\/+$/, '');
  const buckets = options.buckets.map((name) => ({ id: newId(), name, orgID: ORG_ID, type: 'user' }));
  const bucketNamed = (nameOrId: string) => buckets.find((b) => b.name === nameOrId || b.id === nameOrId);
  const mapping = (database: string, bucketID: string): Dbrp => ({ id: newId(), database, retention_policy: 'autogen', default: true, virtual: false, orgID: ORG_ID, bucketID });
  const made = new Set<string>();
  return {
    options,
    upstream,
    buckets,
    bucketNamed,
    mapping,
    dbrps: Object.entries(options.mappings ?? {}).map(([database, name]) => mapping(database, bucketNamed(name)!.id)),
    /** Every line of the writes answered 204. */
    accepted: [] as string[],
    /** Requests answered, by route (`POST /api/v2/write`, …), and gzipped write bodies. */
    counts: {} as Record<string, number>,
    orgMatches: (org: string | null): boolean => org === options.org || org === ORG_ID,
    /** The upstream database of a bucket, created on first use. */
    async ensureDatabase(bucketId: string): Promise<string> {
      const db = `b${bucketId}`;
      if (!made.has(db)) {
        await fetch(`${upstream}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }) });
        made.add(db);
      }
      return db;
    },
  };
}

/** `/api/v2/write` and the v1 compatibility `/write`, stored upstream. */
function writeRoutes(s: State) {
  async function store(bucketId: string, precision: string, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    } catch {
      return error(res, 400, 'invalid', 'unable to read data: gzipped HTTP body contains an invalid header');
    }
    if (s.options.maxBodyBytes !== undefined && body.length > s.options.maxBodyBytes) return error(res, 413, 'request too large', 'unable to read data: points batch is too large');
    if (body.length === 0) return reply(res, 204);
    const db = await s.ensureDatabase(bucketId);
    const answer = await fetch(`${s.upstream}/write?db=${db}&precision=${precision === 'us' ? 'u' : precision}`, { method: 'POST', body });
    const text = await answer.text();
    if (answer.status === 204) {
      for (const line of body.toString('utf8').split('\n')) if (line.trim() !== '' && !line.startsWith('#')) s.accepted.push(line);
      return reply(res, 204);
    }
    const message = (JSON.parse(text) as { error?: string }).error ?? text;
    // 2.x stores the valid points of a partial write and answers 422 (EUnprocessableEntity).
    // Which were stored the message does not say, so `lines()` leaves the batch out.
    if (/partial write/.test(message)) return error(res, 422, 'unprocessable entity', `failure writing points to database: ${message}`);
    return error(res, answer.status === 400 ? 400 : 500, answer.status === 400 ? 'invalid' : 'internal error', message);
  }

  return {
    async writeV2(url: URL, req: IncomingMessage, raw: Buffer, token: StandinToken, res: ServerResponse): Promise<void> {
      const precision = url.searchParams.get('precision') ?? 'ns';
      if (!PRECISIONS.has(precision)) return error(res, 400, 'invalid', 'invalid precision; valid precision units are ns, us, ms, and s');
      const org = url.searchParams.get('org');
      if (!s.orgMatches(org)) return error(res, 404, 'not found', `organization name "${org ?? ''}" not found`);
      const bucket = s.bucketNamed(url.searchParams.get('bucket') ?? '');
      if (!bucket) return error(res, 404, 'not found', `bucket "${url.searchParams.get('bucket') ?? ''}" not found`);
      if (!token.write) return error(res, 403, 'forbidden', 'insufficient permissions for write');
      return store(bucket.id, precision, req, raw, res);
    },
    /** The v1 compatibility write: the database through a DBRP mapping (token already checked). */
    async writeV1(url: URL, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
      const db = url.searchParams.get('db') ?? '';
      const mapped = s.dbrps.find((m) => m.database === db);
      if (!mapped) return error(res, 404, 'not found', 'no dbrp mapping found'); // http/legacy/write_handler.go
      return store(mapped.bucketID, url.searchParams.get('precision') ?? 'ns', req, raw, res);
    },
  };
}

/** `/query` over a mapping, `/api/v2/buckets`, `/api/v2/dbrps`. */
function mappingRoutes(s: State) {
  return {
    async query(url: URL, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
      const params = new URLSearchParams(url.search);
      if (req.method === 'POST' && /urlencoded/.test(req.headers['content-type'] ?? '')) for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) params.set(k, v);
      const db = params.get('db') ?? '';
      const mapped = s.dbrps.find((m) => m.database === db);
      if (!mapped) return error(res, 404, 'not found', 'unable to find DBRP'); // dbrp.ErrDBRPNotFound
      if (/^\s*(CREATE|DROP)\s+DATABASE/i.test(params.get('q') ?? '')) return error(res, 400, 'invalid', 'database management is not supported through the v1 query API');
      params.set('db', await s.ensureDatabase(mapped.bucketID));
      const answer = await fetch(`${s.upstream}/query`, { method: 'POST', body: params, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    },
    listBuckets(url: URL, res: ServerResponse): void {
      if (!s.orgMatches(url.searchParams.get('org') ?? url.searchParams.get('orgID'))) return error(res, 404, 'not found', `organization name "${url.searchParams.get('org')}" not found`);
      const name = url.searchParams.get('name');
      return reply(res, 200, { buckets: s.buckets.filter((b) => !name || b.name === name) });
    },
    listDbrps(url: URL, res: ServerResponse): void {
      const org = url.searchParams.get('org') ?? url.searchParams.get('orgID');
      if (!org) return error(res, 400, 'invalid', 'either "org" or "orgID" must be provided');
      if (!s.orgMatches(org)) return error(res, 400, 'invalid', `invalid org "${org}"`);
      const db = url.searchParams.get('db');
      const bucketID = url.searchParams.get('bucketID');
      return reply(res, 200, { content: s.dbrps.filter((m) => (!db || m.database === db) && (!bucketID || m.bucketID === bucketID)) });
    },
    createDbrp(raw: Buffer, token: StandinToken, res: ServerResponse): void {
      if (!token.createDbrp) return error(res, 401, 'unauthorized', `write:orgs/${ORG_ID}/dbrp is unauthorized`);
      let body: { org?: string; orgID?: string; bucketID?: string; database?: string; retention_policy?: string; default?: boolean };
      try {
        body = JSON.parse(raw.toString('utf8')) as typeof body;
      } catch {
        return error(res, 400, 'invalid', 'invalid json structure');
      }
      if (!body.org && !body.orgID) return error(res, 400, 'invalid', 'either "org" or "orgID" must be provided');
      if (!s.orgMatches(body.orgID ?? body.org ?? null)) return error(res, 400, 'invalid', `invalid org ID "${body.orgID ?? body.org}"`);
      const bucket = s.buckets.find((b) => b.id === body.bucketID);
      if (!bucket) return error(res, 400, 'invalid', `invalid bucket ID "${body.bucketID ?? ''}"`);
      if (!body.database) return error(res, 400, 'invalid', 'database must not be empty');
      const rp = body.retention_policy ?? 'autogen';
      if (s.dbrps.some((m) => m.database === body.database && m.retention_policy === rp)) return error(res, 409, 'conflict', 'another DBRP mapping with same orgID, db, and rp exists');
      const created = { ...s.mapping(body.database, bucket.id), retention_policy: rp, default: body.default ?? false };
      s.dbrps.push(created);
      return reply(res, 201, created);
    },
  };
}

export async function startInfluxV2Standin(options: StandinOptions) {
  const version = options.version ?? 'v2.7.11';
  const s = createState(options);
  const writes = writeRoutes(s);
  const mappings = mappingRoutes(s);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const route = `${req.method} ${url.pathname}`;
    s.counts[route] = (s.counts[route] ?? 0) + 1;
    if (req.headers['content-encoding'] === 'gzip') s.counts.gzipped = (s.counts.gzipped ?? 0) + 1;
    if (route === 'GET /ping' || route === 'HEAD /ping') return reply(res, 204, undefined, { 'X-Influxdb-Build': 'OSS', 'X-Influxdb-Version': version });
    if (route === 'GET /health') return reply(res, 200, { name: 'influxdb', message: 'ready for queries and writes', status: 'pass', checks: [], version, commit: 'standin' });
    const token = options.tokens[/^Token (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''];
    if (!token) return error(res, 401, 'unauthorized', 'unauthorized access');
    const body = await readBody(req);
    switch (route) {
      case 'POST /api/v2/write': return writes.writeV2(url, req, body, token, res);
      case 'POST /write': return writes.writeV1(url, req, body, res);
      case 'GET /query': case 'POST /query': return mappings.query(url, req, body, res);
      case 'GET /api/v2/buckets': return mappings.listBuckets(url, res);
      case 'GET /api/v2/dbrps': return mappings.listDbrps(url, res);
      case 'POST /api/v2/dbrps': return mappings.createDbrp(body, token, res);
      default: return error(res, 404, 'not found', 'path not found');
    }
  }

  let server: Server | undefined;
  let port = 0;
  async function listen(): Promise<void> {
    server = createServer((req, res) => void handle(req, res).catch((e: unknown) => error(res, 500, 'internal error', (e as Error).message)));
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }
  await listen();

  return {
    url: `http://127.0.0.1:${port}`,
    /** The upstream 1.x database that holds a bucket's points. */
    storageDb: (bucket: string): string => `b${s.bucketNamed(bucket)!.id}`,
    /** Every line of the writes answered 204, in arrival order. */
    lines: (keep?: (line: string) => boolean): string[] => (keep ? s.accepted.filter(keep) : [...s.accepted]),
    requests: (): Record<string, number> => ({ ...s.counts }),
    mappings: (): Dbrp[] => s.dbrps.map((m) => ({ ...m })),
    /** Stop answering (connections refused) until `listen()`: an outage. */
    close: (): Promise<void> => new Promise((resolve) => {
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = undefined;
    }),
    listen,
  };
}

function reply(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** 2.x's error answer: the status its code maps to, `X-Platform-Error-Code`, `{code, message}`. */
function error(res: ServerResponse, status: number, code: string, message: string): void {
  reply(res, status, { code, message }, { 'X-Platform-Error-Code': code });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
