import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../lib/logger.ts';
import { loadOrCreateSecretFile } from '../lib/secret-file.ts';
import { loadCredentialHasher } from '../registry/secrets.ts';
import { acquireDataDirLock } from '../lib/data-dir-lock.ts';
import { openDb } from '../registry/db.ts';
import { createDeviceRegistry } from '../registry/devices.ts';
import { createCityRegistry } from '../registry/city.ts';
import { createTokenStore } from '../registry/tokens.ts';
import { createServiceAccounts } from '../registry/service-accounts.ts';
import { createInventoryService } from '../inventory/service.ts';
import { createDeadLetterStore } from '../ingest/dead-letters.ts';
import type { AppContext } from './context.ts';

/**
 * The data directory and what lives in its SQLite file: the registry (devices, the city's
 * zones, facilities, teams and gateways), tokens, service accounts, the inventory service
 * and the dead letters. The directory is locked while the server runs: the CLI's writing
 * commands refuse it and point to the API.
 */
export function startDataDir(ctx: AppContext) {
  const { config, logger, clock } = ctx;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock = acquireDataDirLock(dataDir, 'server');
  try {
    const adminToken = config.adminToken ?? loadOrCreateAdminToken(dataDir, logger);
    const hasher = loadCredentialHasher(dataDir, logger, config.credentialKeyFile);
    const db = openDb(join(dataDir, 'greenspace.db'));
    const devices = createDeviceRegistry(db, { hasher });
    const deadLetters = createDeadLetterStore(db, {
      maxRows: 100_000,
      onError: (error, rows) => logger.error({ module: 'dead-letters', err: error, rows }, 'dead letters not stored yet; retrying'),
    });
    return {
      dataDir,
      lock,
      adminToken,
      hasher,
      db,
      devices,
      inventory: createInventoryService({ db, now: () => clock.now(), devices, hashSecret: hasher.hash, hashConcurrency: config.mqttAuthConcurrency }),
      city: createCityRegistry(db),
      deadLetters,
      tokens: createTokenStore(db, { clock }),
      serviceAccounts: createServiceAccounts(db, { clock, hasher, isDeviceId: (id) => devices.get(id) !== undefined }),
      stop(): void {
        deadLetters.close();
        db.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** The bootstrap admin token: from config, else generated once into the data dir (0600). */
function loadOrCreateAdminToken(dataDir: string, logger: Logger): string {
  return loadOrCreateSecretFile(join(dataDir, 'admin-token'), () => randomBytes(24).toString('base64url'), { logger, what: 'the admin API token; set GS_ADMIN_TOKEN to choose your own' });
}
