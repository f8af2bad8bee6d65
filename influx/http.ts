/**
 * The two InfluxDB endpoints every server line answers: `/write` (line protocol) and
 * `/query` (InfluxQL), plus `/ping`. InfluxDB 1.x natively, 2.x through its v1
 * compatibility API (token auth), 3.x likewise. The official client's write API
 * targets /api/v2/write, which 1.x answers with 404, so the transport is Node's fetch.
 */
export interface InfluxTarget {
  url: string;
  db: string;
  token?: string | undefined;
  timeoutMs?: number;
}

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

    /** CREATE DATABASE is idempotent on 1.x; 2.x/3.x map databases through DBRP/auto-creation. */
    async createDatabase(): Promise<void> {
      await query(`CREATE DATABASE "${target.db}"`, { db: '' });
    },

    async write(lines: string | Buffer): Promise<WriteOutcome> {
      let res: Response;
      let text: string;
      try {
        res = await request(`/write?db=${encodeURIComponent(target.db)}&precision=ms`, {
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
      if (res.status === 404 && /database not found/i.test(message)) return { kind: 'no_database', message };
      if (res.status === 413) return { kind: 'too_large', message };
      if (res.status === 400) return { kind: 'refused', status: 400, message };
      return { kind: 'retry', status: res.status, message };
    },

    query,
  };
}

function extractError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string; message?: string };
    return parsed.error ?? parsed.message ?? text;
  } catch {
    return text.trim();
  }
}
