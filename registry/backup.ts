import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { CREDENTIAL_KEY_FILE } from './secrets.ts';

/**
 * Backup and restore of what only this system holds: the SQLite file (registry, ledger,
 * alerts, work orders, notifications, tokens) and the data directory's generated secrets
 * (SECRET_FILES): without the credential key a restored registry's device hashes match no
 * secret, and the whole fleet would be locked out. Readings live in
 * InfluxDB, which has its own backup tool (see INFLUX_BACKUP_HINT).
 *
 * The copy is taken with `VACUUM INTO`: one read transaction, so it is consistent while the
 * server keeps writing (WAL lets it), and it never restarts the way the page-by-page backup
 * API does when another connection writes mid-copy.
 */
export const BACKUP_DB = 'greenspace.db';
const MANIFEST = 'backup.json';
/**
 * The secrets the server generates into its data directory: the admin token (absent when
 * GS_ADMIN_TOKEN is set), the key acknowledge links are signed with, and the key device and
 * service-account secrets are hashed with (registry/secrets.ts).
 */
export const SECRET_FILES = ['admin-token', 'link-key', CREDENTIAL_KEY_FILE] as const;

export const BackupManifest = z.object({
  format: z.literal(1),
  takenAt: z.string(),
  from: z.string(),
  schemaVersion: z.number().int(),
  rows: z.record(z.string(), z.number().int()),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

export const INFLUX_BACKUP_HINT = [
  'Readings are in InfluxDB, not in this backup. Back them up with its own tool:',
  '  InfluxDB 1.x: influxd backup -portable -database <GS_INFLUX_DB> <dir>   (restore: influxd restore -portable <dir>)',
  '  InfluxDB 2.x: influx backup <dir>   (restore: influx restore <dir>)',
  'Points not yet shipped stay in the data directory\'s durable-log/ and are sent at the next start.',
].join('\n');

const COUNTED = ['devices', 'zones', 'facilities', 'alerts', 'work_orders', 'work_order_events'];

function rowCounts(db: Database.Database): Record<string, number> {
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
  return Object.fromEntries(COUNTED.filter((t) => tables.has(t)).map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]));
}

/** Copy the data directory's database (and admin token) into `out`, a new or empty directory. */
export function backupDataDir(dataDir: string, out: string, now = new Date()): BackupManifest {
  const source = join(dataDir, BACKUP_DB);
  if (!existsSync(source)) throw new Error(`no registry in ${dataDir}: ${BACKUP_DB} is missing`);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) throw new Error(`${out} exists and is not an empty directory: choose a new one`);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const target = join(out, BACKUP_DB);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  chmodSync(target, 0o600);
  for (const name of SECRET_FILES) copySecret(join(dataDir, name), join(out, name));
  const copy = new Database(target, { readonly: true });
  try {
    const manifest: BackupManifest = { format: 1, takenAt: now.toISOString(), from: dataDir, schemaVersion: copy.pragma('user_version', { simple: true }) as number, rows: rowCounts(copy) };
    writeFileSync(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    return manifest;
  } finally {
    copy.close();
  }
}

/**
 * Put a backup back as the data directory's database. The copy is checked first (its
 * manifest, SQLite's integrity check); a database already there is kept beside it as
 * `greenspace.db.before-restore-<time>`, never deleted, and only replaced when `replace`.
 * The caller holds the data directory (no server runs on it).
 */
export function restoreDataDir(backup: string, dataDir: string, options: { replace: boolean; now?: Date }): { manifest: BackupManifest; keptAs?: string } {
  const manifestPath = join(backup, MANIFEST);
  if (!existsSync(manifestPath)) throw new Error(`${backup} is not a greenspace backup: ${MANIFEST} is missing`);
  const manifest = BackupManifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const source = join(backup, BACKUP_DB);
  const check = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const integrity = check.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new Error(`${source} is damaged (integrity_check: ${String(integrity)}): not restoring it`);
  } finally {
    check.close();
  }
  const target = join(dataDir, BACKUP_DB);
  let keptAs: string | undefined;
  if (existsSync(target)) {
    if (!options.replace) throw new Error(`${dataDir} already holds a registry: pass --replace to restore over it (the current one is kept beside it)`);
    keptAs = `${target}.before-restore-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(target, keptAs);
    for (const side of ['-wal', '-shm']) {
      if (existsSync(target + side)) renameSync(target + side, keptAs + side);
    }
  }
  const partial = `${target}.restoring`;
  copyFileSync(source, partial);
  chmodSync(partial, 0o600);
  renameSync(partial, target);
  // The restored hashes and links belong to the backup's keys; a different one already
  // here is kept beside it, like the database, never deleted.
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  for (const name of SECRET_FILES) {
    const [from, to] = [join(backup, name), join(dataDir, name)];
    if (existsSync(from) && existsSync(to) && !readFileSync(from).equals(readFileSync(to))) renameSync(to, `${to}.before-restore-${stamp}`);
    copySecret(from, to);
  }
  return { manifest, keptAs };
}

/** A generated secret, when the data directory has it (GS_ADMIN_TOKEN set means no admin-token file): owner-only. */
function copySecret(from: string, to: string): void {
  if (!existsSync(from)) return;
  copyFileSync(from, to);
  chmodSync(to, 0o600);
}
