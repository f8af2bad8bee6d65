import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { SimDevice } from './spec.ts';

export interface RegisterResult {
  credentials: Map<string, string>;
  /** Already registered: the API returns a secret only once, so these need a credentials file. */
  conflicts: string[];
  failures: Array<{ id: string; status: number; message: string }>;
}

/**
 * Register the fleet through the app's API (`POST /api/v1/devices`, admin bearer token);
 * the answer carries each device's secret, the only time the API reveals it.
 */
export async function registerFleet(o: {
  apiUrl: string;
  token: string;
  devices: SimDevice[];
  /**
   * The network-server application the devices will speak through (LoRaWAN modes):
   * registered as their `lorawanApplication`, so the app believes only that application
   * for them (ChirpStack: the application id; TTS: `application@tenant`).
   */
  lorawanApplication?: string;
  concurrency?: number;
  fetch?: typeof fetch;
  onProgress?: (done: number) => void;
}): Promise<RegisterResult> {
  const doFetch = o.fetch ?? fetch;
  const result: RegisterResult = { credentials: new Map(), conflicts: [], failures: [] };
  const url = new URL('/api/v1/devices', o.apiUrl).toString();
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < o.devices.length) {
      const device = o.devices[next++]!;
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
        body: JSON.stringify(o.lorawanApplication ? { ...device.registration, lorawanApplication: o.lorawanApplication } : device.registration),
      });
      const text = await res.text();
      if (res.status === 201) {
        result.credentials.set(device.id, (JSON.parse(text) as { secret: string }).secret);
      } else if (res.status === 409) {
        result.conflicts.push(device.id);
      } else {
        result.failures.push({ id: device.id, status: res.status, message: text.slice(0, 300) });
      }
      o.onProgress?.(++done);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 8) }, worker));
  return result;
}

/** A credentials file: `{ "id": "secret", ... }` or `[{ "id": ..., "secret": ... }]`. */
export const CredentialsFile = z.union([
  z.record(z.string(), z.string().min(1)),
  z.array(z.strictObject({ id: z.string(), secret: z.string().min(1) })),
]);

export function readCredentials(path: string): Map<string, string> {
  const parsed = CredentialsFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`credentials file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return Array.isArray(parsed.data) ? new Map(parsed.data.map((c) => [c.id, c.secret])) : new Map(Object.entries(parsed.data));
}

/** Keep the secrets for the next run (0600: they are passwords). */
export function writeCredentials(path: string, credentials: ReadonlyMap<string, string>): void {
  writeFileSync(path, `${JSON.stringify(Object.fromEntries(credentials), null, 2)}\n`, { mode: 0o600 });
}
