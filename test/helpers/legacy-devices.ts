import { openDb } from '../../registry/db.ts';
import { createDeviceRegistry } from '../../registry/devices.ts';
import { hashSecret, loadCredentialHasher } from '../../registry/secrets.ts';

/**
 * A data directory whose devices carry scrypt hashes, as every device secret was stored
 * before keyed hashes (registry/secrets.ts): registered normally, then their hashes
 * replaced in SQLite. Returns each device's secret.
 */
export async function seedLegacyDevices(dataDir: string, ids: string[]): Promise<Map<string, string>> {
  const db = openDb(`${dataDir}/greenspace.db`);
  try {
    const devices = createDeviceRegistry(db, { hasher: loadCredentialHasher(dataDir) });
    const secrets = new Map<string, string>();
    for (const id of ids) {
      const { secret } = await devices.register({ id, kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
      db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(await hashSecret(secret), id);
      secrets.set(id, secret);
    }
    return secrets;
  } finally {
    db.close();
  }
}

/** What SQLite holds as a device's secret hash. */
export function storedHash(dataDir: string, id: string): string | undefined {
  const db = openDb(`${dataDir}/greenspace.db`);
  try {
    return (db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(id) as { secret_hash: string } | undefined)?.secret_hash;
  } finally {
    db.close();
  }
}
