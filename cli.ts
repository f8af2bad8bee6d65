import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from './config/config.ts';
import { openDb } from './registry/db.ts';
import { createInventoryImporter } from './inventory/apply.ts';
import { loadCredentialHasher } from './registry/secrets.ts';
import { createImportProgress } from './inventory/import-progress.ts';
import { exportInventory, formatInventory } from './inventory/export.ts';
import { defaultCredentialsPath, formatCredentials, formatOf, openCredentialsFile, readInventoryFile } from './inventory/files.ts';
import { acquireDataDirLock, describeLock, readDataDirLock } from './lib/data-dir-lock.ts';
import { formatProblem } from './inventory/problems.ts';
import type { DeviceCredential, ImportReport } from './contracts/inventory.ts';
import { backupDataDir, INFLUX_BACKUP_HINT, restoreDataDir } from './registry/backup.ts';
import { UserCreate } from './contracts/user.ts';
import { createUserStore } from './registry/users.ts';
import { systemClock } from './lib/clock.ts';

/** Operator commands on the data directory (reads, and writes while no server holds it) or through a running server's API. */
const out = (s: string): void => void process.stdout.write(s);
const fail = (s: string, code = 1): never => {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  process.exit(code);
};

/**
 * The registry of an existing data directory. A mistyped path must not become a new empty
 * registry: the directory must exist, and reading needs its greenspace.db. Writing needs the
 * directory to itself: a running server holds it (lib/data-dir-lock.ts) and would keep
 * serving what it cached (a retired device still publishing), so writes go through its API.
 */
function openDataDir(dataDirOption: string | undefined, mode: 'read' | 'preview' | 'write', retry?: string) {
  const dir = resolve(dataDirOption ?? loadConfig(process.env).dataDir);
  const source = dataDirOption !== undefined ? '--data-dir' : process.env.GS_DATA_DIR ? 'GS_DATA_DIR' : 'the default ./data';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return fail(`data directory ${dir} (${source}) does not exist: check the path; the server creates it at its first start`);
  }
  const path = join(dir, 'greenspace.db');
  if (mode === 'read' && !existsSync(path)) return fail(`no registry in ${dir} (${source}): greenspace.db is missing; check the path`);
  // A dry run before the first import previews against an empty registry, creating no file.
  if (mode === 'preview') return { dir, db: openDb(existsSync(path) ? path : ':memory:'), release: () => undefined };
  if (mode === 'read') return { dir, db: openDb(path), release: () => undefined };
  const held = readDataDirLock(dir);
  if (held) {
    const via = held.url && retry ? `\nwrite through it instead: ${retry} --url ${held.url} (admin token: --token or GS_ADMIN_TOKEN)` : '';
    return fail(`data directory ${dir} is in use by ${describeLock(held)}; not writing under it${via}`);
  }
  const lock = acquireDataDirLock(dir, `cli ${process.argv.slice(2, 4).join(' ')}`);
  return { dir, db: openDb(path), release: () => lock.release() };
}

/** Where new secrets go: a 0600 file (never overwritten), or stdout when asked with `--credentials -`. */
const credentialsTarget = (option: string | undefined, file: string) =>
  option === '-'
    ? { path: 'stdout', write: (c: DeviceCredential[]) => void process.stdout.write(formatCredentials(c)), discard: () => undefined }
    : openCredentialsFile(option ?? defaultCredentialsPath(file, new Date()));

/** Warnings (what imports but will not work as hoped) go to stderr, `file:line: path: warning: message`: an import with them still succeeds. */
const warn = (warnings: ReadonlyArray<{ file: string; path: string; message: string; line?: number }>): void => {
  for (const w of warnings) process.stderr.write(`${formatProblem({ ...w, message: `warning: ${w.message}` })}\n`);
};

/** The report of an import whose secrets go to stdout goes to stderr, so the CSV can be piped. */
let reportTo = (s: string): void => out(s);
const announce = (target: { path: string }, count: number): void => {
  if (target.path !== 'stdout') out(`secrets of ${count} new devices written to ${target.path} (mode 0600): they are not stored anywhere else\n`);
};

function printReport(report: ImportReport, verb: string): void {
  const out = reportTo;
  const rows = Object.entries(report.tables).filter(([, c]) => c.inserted + c.updated + c.retired + c.deleted > 0);
  out(`${verb}: ${report.totals.inserted} inserted, ${report.totals.updated} updated, ${report.totals.retired} retired, ${report.totals.deleted} deleted (${report.rowsWritten} rows written)\n`);
  for (const [table, c] of rows) out(`  ${table.padEnd(17)} +${c.inserted} ~${c.updated} retired ${c.retired} deleted ${c.deleted}\n`);
  for (const change of report.changes.filter((c) => c.action === 'updated').slice(0, 20)) {
    out(`  updated ${change.table} ${change.key}: ${change.columns?.join(', ')}\n`);
  }
}

/** PUT the file to a running server, so its device index sees the change at once. */
async function importRemote(file: string, opts: { url: string; token?: string; prune: boolean; dryRun: boolean; credentials?: string }): Promise<void> {
  const token = opts.token ?? process.env.GS_ADMIN_TOKEN;
  if (!token) return fail('--url needs an admin token: --token or GS_ADMIN_TOKEN', 2);
  const credentials = opts.dryRun ? undefined : credentialsTarget(opts.credentials, file);
  const url = new URL(`/api/v1/inventory?prune=${opts.prune}&dryRun=${opts.dryRun}`, opts.url);
  const res = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' }, body: readFileSync(file, 'utf8') })
    .catch((error: unknown) => {
      credentials?.discard();
      throw error;
    });
  type Issue = { path: string; message: string; line?: number };
  const body = await res.json().catch(() => ({})) as { report?: ImportReport; credentials?: DeviceCredential[]; warnings?: Issue[]; message?: string; issues?: Issue[] };
  if (!res.ok || !body.report) {
    credentials?.discard();
    const issues = (body.issues ?? []).map((i) => formatProblem({ file, ...i }));
    return fail(issues.length > 0 ? issues.join('\n') : `${url.origin} answered ${res.status}: ${body.message ?? ''}`);
  }
  warn((body.warnings ?? []).map((w) => ({ file, ...w })));
  printReport(body.report, opts.dryRun ? 'would change' : 'imported');
  const fresh = body.credentials ?? [];
  if (!credentials) return;
  if (fresh.length === 0) return credentials.discard();
  credentials.write(fresh);
  announce(credentials, fresh.length);
}

const program = new Command().name('greenspace').description('Greenspace monitoring: operator commands');
const inventory = program.command('inventory').description('the city inventory: districts, communities, zones, facilities, devices, teams');
const dataDirOption = new Option('--data-dir <dir>', 'data directory holding greenspace.db (default: GS_DATA_DIR or ./data)');

inventory.command('check')
  .description('validate an inventory file without touching the registry')
  .argument('<file>', 'inventory file (.yaml, .yml or .json)')
  .action((file: string) => {
    const parsed = readInventoryFile(file);
    if (!parsed.ok) return fail(parsed.error.map(formatProblem).join('\n'));
    warn(parsed.warnings);
    out(`${file}: ok${parsed.warnings.length > 0 ? ` (${parsed.warnings.length} warning${parsed.warnings.length > 1 ? 's' : ''})` : ''}\n`);
  });

inventory.command('import')
  .description('make the registry match the file; new devices get secrets, written once to a 0600 credentials file')
  .argument('<file>', 'inventory file (.yaml, .yml or .json)')
  .addOption(dataDirOption)
  .option('--prune', 'delete rows the file no longer lists (default: retire them)', false)
  .option('--dry-run', 'report what would change and write nothing', false)
  .option('--credentials <file>', 'where to write new devices\' secrets (default: ./<name>-credentials-<time>.csv, git-ignored); - prints them to stdout')
  .option('--url <url>', 'import through a running server\'s API (e.g. http://127.0.0.1:3000) instead of the data directory')
  .option('--token <token>', 'admin bearer token for --url (default: GS_ADMIN_TOKEN)')
  .action(async (file: string, opts: { dataDir?: string; prune: boolean; dryRun: boolean; credentials?: string; url?: string; token?: string }) => {
    // A bar on a terminal only: piped or redirected, the report lines are the whole output.
    const progress = createImportProgress({ tty: Boolean(process.stdout.isTTY && process.stderr.isTTY) && !opts.dryRun && !opts.url });
    process.once('exit', progress.stop); // a refusal below exits with the bar drawn: take it down first
    progress.step('reading');
    const parsed = readInventoryFile(file);
    if (!parsed.ok) return fail(parsed.error.map(formatProblem).join('\n'));
    // Through a server, its own check's warnings are printed (the same, from the same code).
    if (!opts.url) warn(parsed.warnings);
    if (opts.credentials === '-') reportTo = (text) => void process.stderr.write(text);
    if (opts.url) return importRemote(file, opts as typeof opts & { url: string });
    const { dir, db, release } = openDataDir(opts.dataDir, opts.dryRun ? 'preview' : 'write', `npm run cli -- inventory import ${file}`);
    try {
      if (opts.dryRun) {
        const preview = createInventoryImporter({ db, now: () => Date.now(), hashSecret: () => { throw new Error('a dry run hashes nothing'); } });
        return printReport(preview.previewInventory(parsed.value, { prune: opts.prune }), 'would change');
      }
      // The server's credential key (GS_CREDENTIAL_KEY_FILE, else the data directory's own,
      // generated there if the server never ran): the server started on this directory
      // later must check the secrets hashed here.
      const hasher = loadCredentialHasher(dir, undefined, loadConfig(process.env).credentialKeyFile);
      const importer = createInventoryImporter({ db, now: () => Date.now(), hashSecret: hasher.hash, onProgress: progress.step });
      const credentials = credentialsTarget(opts.credentials, file);
      const result = await importer.importInventory(parsed.value, { prune: opts.prune }).catch((error: unknown) => {
        credentials.discard();
        throw error;
      }).finally(() => progress.stop());
      printReport(result.report, 'imported');
      if (result.credentials.length === 0) credentials.discard();
      else {
        credentials.write(result.credentials);
        announce(credentials, result.credentials.length);
      }
    } finally {
      db.close();
      release();
    }
  });

inventory.command('export')
  .description('write the live registry as an inventory file (stdout without FILE)')
  .argument('[file]', 'output file; .json writes JSON, anything else YAML')
  .addOption(dataDirOption)
  .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']))
  .action((file: string | undefined, opts: { dataDir?: string; format?: 'yaml' | 'json' }) => {
    const { db } = openDataDir(opts.dataDir, 'read');
    try {
      const text = formatInventory(exportInventory(db), opts.format ?? (file ? formatOf(file) : 'yaml'));
      if (file) writeFileSync(file, text);
      else out(text);
    } finally {
      db.close();
    }
  });

program.command('backup')
  .description('copy the registry, ledger and alerts (greenspace.db) and the admin token into a new directory; safe while the server runs')
  .argument('<dir>', 'a new (or empty) directory for the backup')
  .addOption(dataDirOption)
  .action((dir: string, opts: { dataDir?: string }) => {
    const { db } = openDataDir(opts.dataDir, 'read');
    db.close(); // the checks above, then a read-only copy in one transaction (registry/backup.ts)
    const source = resolve(opts.dataDir ?? loadConfig(process.env).dataDir);
    const manifest = backupDataDir(source, resolve(dir));
    const rows = Object.entries(manifest.rows).map(([t, n]) => `${t} ${n}`).join(', ');
    out(`backed up ${source} to ${resolve(dir)} (schema ${manifest.schemaVersion}; ${rows})\n\n${INFLUX_BACKUP_HINT}\n`);
  });

program.command('restore')
  .description('put a backup back as the data directory\'s registry; the server must be stopped')
  .argument('<dir>', 'a directory written by `backup`')
  .addOption(dataDirOption)
  .option('--replace', 'restore over an existing registry (it is kept beside it, renamed)', false)
  .action((dir: string, opts: { dataDir?: string; replace: boolean }) => {
    const target = resolve(opts.dataDir ?? loadConfig(process.env).dataDir);
    mkdirSync(target, { recursive: true }); // a fresh machine's data directory
    const held = readDataDirLock(target);
    if (held) return fail(`data directory ${target} is in use by ${describeLock(held)}; stop it before restoring`);
    const lock = acquireDataDirLock(target, 'cli restore');
    try {
      const { manifest, keptAs } = restoreDataDir(resolve(dir), target, { replace: opts.replace });
      out(`restored the backup of ${manifest.takenAt} into ${target}${keptAs ? `; the registry it replaced is kept as ${keptAs}` : ''}\nstart the server on it; restore InfluxDB with its own tool:\n${INFLUX_BACKUP_HINT}\n`);
    } finally {
      lock.release();
    }
  });

const user = program.command('user').description('people who log in to the web pages (machines use API tokens)');
user.command('create')
  .description('create a user; the password is read from GS_USER_PASSWORD or the first line of stdin, never from the command line')
  .argument('<name>', 'login name: what the ledger records as who acted')
  .addOption(new Option('--role <role>', 'role').choices(['admin', 'operator', 'technician', 'viewer']).makeOptionMandatory())
  .option('--district <id...>', 'confine to these districts (not for admins)')
  .addOption(dataDirOption)
  .option('--url <url>', 'create through a running server\'s API instead (admin token: --token or GS_ADMIN_TOKEN)')
  .option('--token <token>', 'admin API token for --url')
  .action(async (name: string, opts: { role: UserCreate['role']; district?: string[]; dataDir?: string; url?: string; token?: string }) => {
    const password = process.env.GS_USER_PASSWORD ?? readFileSync(0, 'utf8').split('\n')[0] ?? '';
    const body = { name, role: opts.role, password, ...(opts.district ? { districts: opts.district } : {}) };
    const parsed = UserCreate.safeParse(body);
    if (!parsed.success) return fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'user'}: ${i.message}`).join('\n'), 2);
    if (opts.url) {
      const token = opts.token ?? process.env.GS_ADMIN_TOKEN;
      if (!token) return fail('--url needs an admin token: --token or GS_ADMIN_TOKEN', 2);
      const res = await fetch(new URL('/api/v1/users', opts.url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(parsed.data) });
      if (!res.ok) return fail(`${opts.url} answered ${res.status}: ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? ''}`);
    } else {
      const { db, release } = openDataDir(opts.dataDir, 'write', `greenspace user create ${name} --role ${opts.role}`);
      try {
        await createUserStore(db, { clock: systemClock }).create(parsed.data);
      } finally {
        db.close();
        release();
      }
    }
    out(`user ${name} (${opts.role}) created; they log in at the server's /app/login\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => fail(`greenspace: ${(error as Error).message}`));
