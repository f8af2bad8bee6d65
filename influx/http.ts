import { gzipSync } from 'node:zlib';

/**
 * The InfluxDB endpoints the app uses: a write (line protocol), `/query` (InfluxQL) and
 * `/ping`. With `api: 'v1'` (the default) writes go to `/write?db=` — InfluxDB 1.x natively,
 * 2.x/3.x through their v1 compatibility API; with `api: 'v2'` to `/api/v2/write?org=&bucket=`
 * — 2.x natively, 3.x through its v2-compatible write API — gzipped. Queries stay InfluxQL at
 * `/query` on `db` (on 2.x a DBRP mapping to the bucket, on 3.x the database itself).
 * The transport is Node's fetch for both: the official client's costs more per batch and
 * keeps its own retry buffer (BENCHMARKS.md, "InfluxDB 2.x write path").
 */
export interface InfluxTarget {
  url: string;
  /** The InfluxQL database: where v1 writes go and queries read (on 2.x, a DBRP mapping's database). */
  db: string;
  token?: string | undefined;
  timeoutMs?: number;
  api?: 'v1' | 'v2';
  /** The v2 write API's organisation and bucket (names or IDs). */
  org?: string | undefined;
  bucket?: string | undefined;
}

/** Bodies above this go gzipped on the v2 path (the official client's default threshold). */
const GZIP_MIN_BYTES = 1000;

export type WriteOutcome =
  | { kind: 'ok' }
  /** 400: InfluxDB 1.x has written the valid points and names the refused ones. */
  | { kind: 'refused'; status: number; message: string }
  /** Database missing: create it and retry. */
  | { kind: 'no_database'; message: string }
  /** Body too large for the server: split and retry. */
  | { kind: 'too_large'; message: string }
  /** 5xx, timeouts, refused connections, auth trouble: keep the points, retry later. */
  | { kind: 'retry'; status: number | undefined; message: string };

export interface QuerySeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export type InfluxHttp = ReturnType<typeof createInfluxHttp>;

export function createInfluxHttp(target: InfluxTarget) {
  const base = target.url.replace(/\/+$/, '');
  const timeoutMs = target.timeoutMs ?? 10_000;
  const headers: Record<string, string> = target.token ? { Authorization: `Token ${target.token}` } : {};
  const v2 = target.api === 'v2';
  const writePath = v2
    ? `/api/v2/write?${new URLSearchParams({ org: target.org ?? '', bucket: target.bucket ?? '', precision: 'ms' })}`
    : `/write?db=${encodeURIComponent(target.db)}&precision=ms`;

  async function request(path: string, init: RequestInit): Promise<Response> {
    return fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(timeoutMs) });
  }

  async function query(q: string, options: { db?: string; method?: 'GET' | 'POST' } = {}): Promise<QuerySeries[][]> {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (options.db !== '') params.set('db', options.db ?? target.db);
    const res = await request(`/query`, {
      method: 'POST',
      body: params,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const body = (await res.json()) as { results?: Array<{ series?: QuerySeries[]; error?: string }>; error?: string };
    if (!res.ok || body.error) throw new Error(`InfluxQL ${res.status}: ${body.error ?? JSON.stringify(body)} (query: ${q})`);
    return (body.results ?? []).map((r) => {
      if (r.error) throw new Error(`InfluxQL: ${r.error} (query: ${q})`);
      return r.series ?? [];
    });
  }

  return {
    target,
    async ping(): Promise<boolean> {
      try {
        const res = await request('/ping', { method: 'GET', signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.status === 204 || res.status === 200;
      } catch {
        return false;
      }
    },

    /**
     * CREATE DATABASE is idempotent on 1.x. On the v2 API buckets are not ours to create:
     * the start-up check (influx/v2-checks.ts) has found the bucket.
     */
    async createDatabase(): Promise<void> {
      if (v2) return;
      await query(`CREATE DATABASE "${target.db}"`, { db: '' });
    },

    async write(lines: string | Buffer): Promise<WriteOutcome> {
      let res: Response;
      let text: string;
      try {
        res = await request(writePath, v2 ? v2Body(lines) : {
          method: 'POST',
          body: lines,
          headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        });
        // Inside the try: the answer's body can be cut off or time out too.
        text = res.status === 204 ? '' : await res.text();
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        return { kind: 'retry', status: undefined, message: cause ?? (error as Error).name ?? String(error) };
      }
      if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
      const message = extractError(text) || res.statusText;
      if (v2) return v2Outcome(res.status, message);
      if (res.status === 404 && /database not found/i.test(message)) return { kind: 'no_database', message };
      if (res.status === 413) return { kind: 'too_large', message };
      if (res.status === 400) return { kind: 'refused', status: 400, message };
      return { kind: 'retry', status: res.status, message };
    },

    query,
  };
}

/** The v2 body: gzipped past the threshold, level 1 (in the shipper thread; ratio barely moves past it on line protocol). */
function v2Body(lines: string | Buffer): RequestInit {
  const raw = typeof lines === 'string' ? Buffer.from(lines) : lines;
  if (raw.length < GZIP_MIN_BYTES) return { method: 'POST', body: raw, headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  return { method: 'POST', body: gzipSync(raw, { level: 1 }), headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Encoding': 'gzip' } };
}

/**
 * The v2 write API's answers (2.x http/write_handler.go): 400 a malformed line (2.x stores
 * nothing of the batch, 3.x the valid lines), 422 a partial write (the valid points stored,
 * e.g. a field type conflict) — both split and isolated like v1's 400, re-sending valid
 * points is harmless; 413 too large; 401/403/404 (token, permission, org or bucket) and 5xx
 * may pass once the operator fixes them: the points stay on disk and are retried.
 */
function v2Outcome(status: number, message: string): WriteOutcome {
  if (status === 400 || status === 422) return { kind: 'refused', status, message };
  if (status === 413) return { kind: 'too_large', message };
  return { kind: 'retry', status, message };
}

function extractError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string; message?: string };
    return parsed.error ?? parsed.message ?? text;
  } catch {
    return text.trim();
  }
}
