import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { eventually, type TestApp } from './app.ts';
import { loadCredentialHasher } from '../../registry/secrets.ts';

/** A cluster's credential key file (GS_CREDENTIAL_KEY_FILE), 0600 in a temp dir; `remove` when done. */
export function writeClusterKey(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gs-cluster-key-'));
  const file = join(dir, 'credential-key');
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Give another node a device registered on the first. With GS_POSTGRES_URL the registry is
 * shared (registry/replica/): wait until the device has reached that node. Without it each
 * node has its own registry: the same device with the same secret (hashed under that node's
 * own credential key) is written into its SQLite, standing in for the shared registry.
 */
export async function shareDevice(to: TestApp, body: Record<string, unknown>, secret: string): Promise<void> {
  const id = body.id as string;
  if (to.config.postgresUrl) {
    await eventually(() => to.app.devices.get(id), 5_000, `device ${id} replicated`);
    return;
  }
  await to.register(body);
  const db = new Database(join(to.dataDir, 'greenspace.db'));
  db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(loadCredentialHasher(to.dataDir).hash(secret), id);
  db.close();
  to.app.devices.refresh(id);
}

/** A counter's value for one label set, as /metrics would show it. */
export async function counterValue(counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

/**
 * Wait until exactly one of the nodes owns the community (their lease rounds settled) and
 * return it first, the others after. Each node lists the communities of its own registry
 * until the registry is shared: give every node the community (shareDevice with a place).
 */
export async function ownerOf(nodes: readonly TestApp[], communityId: string, timeoutMs = 15_000): Promise<[TestApp, ...TestApp[]]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owners = nodes.filter((n) => n.app.ownership.owns(communityId));
    if (owners.length === 1) return [owners[0]!, ...nodes.filter((n) => n !== owners[0])];
    if (Date.now() > deadline) throw new Error(`community ${communityId}: ${owners.length} owners after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The device `id` as `from` stored it, secret hash and all, put into `to`'s registry: what
 * a registry copied or shared between nodes does. The hash is copied, not made again, so
 * `to` accepts the device's secret only if both nodes hash under the same key
 * (GS_CREDENTIAL_KEY_FILE).
 */
export async function copyDevice(from: TestApp, to: TestApp, body: Record<string, unknown>): Promise<void> {
  const id = body.id as string;
  const source = new Database(join(from.dataDir, 'greenspace.db'), { readonly: true });
  const { secret_hash: hash } = source.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(id) as { secret_hash: string };
  source.close();
  await to.register(body);
  const db = new Database(join(to.dataDir, 'greenspace.db'));
  db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(hash, id);
  db.close();
  to.app.devices.refresh(id);
}
