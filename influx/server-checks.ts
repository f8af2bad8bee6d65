import { z } from 'zod';
import { CodedError } from '../lib/errors.ts';
import type { InfluxTarget } from './http.ts';

/**
 * Start-up checks of the InfluxDB server against the settings, before the broker accepts
 * readings: a wrong token, an unknown organisation or bucket, a token that may not write,
 * or a server of the other API line would otherwise only show as writes retried forever
 * while readings pile up on disk. Each failure is an `influx_setting` error naming the
 * setting to change. On 2.x the InfluxQL database the app queries (`db`) must be a DBRP
 * mapping to the bucket: found, created when the token may, or described exactly.
 */

/** The settings' names, passed in: influx/ knows nothing of config/. */
export interface SettingNames { api: string; url: string; db: string; org: string; bucket: string; token: string }

export type ServerCheck =
  | { reachable: false }
  | { reachable: true; version: string | undefined; dbrp: 'not_needed' | 'found' | 'created' | { missing: string } };

const MAX_BODY_BYTES = 1024 * 1024;
const Id = z.string().min(1).max(64);
const ErrorBody = z.object({ code: z.string().max(200).optional(), message: z.string().max(10_000).optional() });
const Buckets = z.object({ buckets: z.array(z.object({ id: Id, name: z.string().max(1_000) })).max(10_000) });
const Mapping = z.object({ id: Id, database: z.string().max(1_000), retention_policy: z.string().max(1_000).optional(), bucketID: Id, default: z.boolean().optional() });
const Mappings = z.object({ content: z.array(Mapping).max(10_000) });

export const settingError = (message: string): CodedError => new CodedError('influx_setting', message);

export async function checkInfluxServer(target: InfluxTarget, names: SettingNames): Promise<ServerCheck> {
  const call = caller(target);
  const ping = await call('GET', '/ping', undefined, 2_000).catch(() => undefined);
  if (!ping || (ping.status !== 204 && ping.status !== 200)) return { reachable: false };
  const version = ping.headers.get('x-influxdb-version') ?? undefined;
  const major = Number(/^v?(\d+)\./.exec(version ?? '')?.[1] ?? Number.NaN);
  const server = `the server at ${names.url} (InfluxDB ${version ?? 'of unknown version'})`;
  if (target.api !== 'v2') {
    if (major >= 2) await checkV1Compatibility(call, target, names, server);
    return { reachable: true, version, dbrp: 'not_needed' };
  }
  if (major === 1) throw settingError(`${names.api}=v2 but ${server} is 1.x, which has no /api/v2/write: set ${names.api}=v1 (${names.db} names the database)`);
  await probeV2Write(call, target, names, server);
  if (major === 3) {
    // 3.x has no DBRP mappings: InfluxQL's database is the bucket itself.
    if (target.db !== target.bucket) throw settingError(`${names.db} "${target.db}": on InfluxDB 3.x the database InfluxQL queries read is the bucket: set ${names.db} to "${target.bucket}" (${names.bucket})`);
    return { reachable: true, version, dbrp: 'not_needed' };
  }
  return { reachable: true, version, dbrp: await ensureDbrp(call, target, names) };
}

type Call = (method: string, path: string, body?: unknown, timeoutMs?: number) => Promise<{ status: number; headers: Headers; text: string }>;

function caller(target: InfluxTarget): Call {
  const base = target.url.replace(/\/+$/, '');
  return async (method, path, body, timeoutMs) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(target.token ? { Authorization: `Token ${target.token}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? (method === 'POST' ? '' : undefined) : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs ?? target.timeoutMs ?? 10_000),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, text: bytes.subarray(0, MAX_BODY_BYTES).toString('utf8') };
  };
}

function parseJson<T>(schema: z.ZodType<T>, text: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not JSON: treated as no answer
  }
}

/** The server's own words for a refusal: the `message` of its `{code, message}` body, or its text. */
function reason(status: number, text: string): string {
  let message = text.trim().slice(0, 300);
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.message) message = parsed.data.message;
  } catch { /* not JSON: the text itself */ }
  return `${status}${message ? `: ${message}` : ''}`;
}

/**
 * An empty write goes through the same checks as a real one, in 2.x's order (token, then
 * organisation, bucket, permission) and stores nothing: 204 (2.x), or 400 from a server
 * that wants at least one line.
 */
async function probeV2Write(call: Call, target: InfluxTarget, names: SettingNames, server: string): Promise<void> {
  const query = new URLSearchParams({ org: target.org ?? '', bucket: target.bucket ?? '', precision: 'ms' });
  const { status, text } = await call('POST', `/api/v2/write?${query}`);
  if ((status >= 200 && status < 300) || status === 400) return;
  const why = reason(status, text);
  if (status === 401) throw settingError(`${names.token} is not accepted by ${server} (${why}): set a valid API token`);
  if (status === 403) throw settingError(`${names.token} may not write to bucket "${target.bucket}" (${why}): give the token write permission on the bucket, or set ${names.token} to a token that has it`);
  if (status === 404) {
    if (/organi[sz]ation/i.test(text)) throw settingError(`${names.org} "${target.org}": no such organisation on ${server} (${why})`);
    if (/bucket/i.test(text)) throw settingError(`${names.bucket} "${target.bucket}": no such bucket in organisation "${target.org}" on ${server} (${why}): create it or set ${names.bucket} to an existing one`);
    throw settingError(`${names.api}=v2 but ${server} has no /api/v2/write (${why}): is it InfluxDB 1.x? Then set ${names.api}=v1`);
  }
  if (status >= 500) return; // the server's trouble, not a setting: writes retry from the durable log
  throw settingError(`${server} refused a write to bucket "${target.bucket}" (${why}): check ${names.org}, ${names.bucket} and ${names.token}`);
}

/**
 * 2.x/3.x given the v1 API: that works only through the v1 compatibility API (a DBRP
 * mapping for the database and a token), so an empty write there must pass.
 */
async function checkV1Compatibility(call: Call, target: InfluxTarget, names: SettingNames, server: string): Promise<void> {
  const { status, text } = await call('POST', `/write?db=${encodeURIComponent(target.db)}&precision=ms`);
  if ((status >= 200 && status < 300) || status === 400 || status >= 500) return;
  throw settingError(`${names.api}=v1 but ${server} is 2.x or later and its v1 compatibility API refused a write to database "${target.db}" (${reason(status, text)}): set ${names.api}=v2 with ${names.org}, ${names.bucket} and ${names.token}, or map ${names.db} to a bucket (DBRP) and set ${names.token}`);
}

/** Find the bucket's ID, then a mapping from `db` to it; create one when the token may. */
async function ensureDbrp(call: Call, target: InfluxTarget, names: SettingNames): Promise<'found' | 'created' | { missing: string }> {
  const org = encodeURIComponent(target.org ?? '');
  const listed = await call('GET', `/api/v2/buckets?org=${org}&name=${encodeURIComponent(target.bucket ?? '')}`);
  const bucketId = listed.status === 200 ? parseJson(Buckets, listed.text)?.buckets[0]?.id : undefined;
  const command = `influx v1 dbrp create --org ${target.org} --bucket-id ${bucketId ?? '<the ID of bucket ' + target.bucket + '>'} --db ${target.db} --rp autogen --default`;
  if (!bucketId) return { missing: `cannot read bucket "${target.bucket}" (${reason(listed.status, listed.text)}); create the DBRP mapping: ${command}` };

  const found = await call('GET', `/api/v2/dbrps?org=${org}&db=${encodeURIComponent(target.db)}`);
  const mappings = found.status === 200 ? parseJson(Mappings, found.text) : undefined;
  if (mappings) {
    const ours = mappings.content.filter((m) => m.database === target.db);
    if (ours.some((m) => m.bucketID === bucketId)) return 'found';
    const other = ours.find((m) => m.default) ?? ours[0];
    if (other) throw settingError(`${names.db} "${target.db}" is mapped (DBRP) to bucket ${other.bucketID}, not to ${names.bucket} "${target.bucket}" (${bucketId}): queries would read another bucket than writes go to; set ${names.db} to another name or remap it`);
  }
  const created = await call('POST', '/api/v2/dbrps', { org: target.org, bucketID: bucketId, database: target.db, retention_policy: 'autogen', default: true });
  if (created.status === 201 || created.status === 200) return 'created';
  return { missing: `the token may not create it (${reason(created.status, created.text)}); create the DBRP mapping with an owner's token: ${command}` };
}
