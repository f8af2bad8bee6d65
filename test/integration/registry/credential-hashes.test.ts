import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createDeviceLifecycle } from '../../../registry/device-lifecycle.ts';
import { createServiceAccounts } from '../../../registry/service-accounts.ts';
import { createUserStore } from '../../../registry/users.ts';
import { createLocalReplica } from '../../../registry/replica/local.ts';
import { keyText } from '../../../registry/replica/tables.ts';
import { createCredentialHasher, CREDENTIAL_KEY_FILE, CREDENTIAL_KEY_FILE_MAX_BYTES, hashSecret, loadCredentialHasher, readCredentialKeyFile, type CredentialHasher } from '../../../registry/secrets.ts';
import { createInventoryService } from '../../../inventory/service.ts';
import { parseInventoryText } from '../../../inventory/parse.ts';
import { systemClock } from '../../../lib/clock.ts';

const KEYED = /^hmac-sha256\$v1\$[0-9a-f]{64}$/;
const SCRYPT = /^scrypt\$16384\$8\$1\$/;
const DEMO = readFileSync(new URL('../../../inventory/examples/demo.yaml', import.meta.url), 'utf8');

describe('how each secret is stored: generated ones keyed and fast, person-chosen ones scrypt', () => {
  let dir: string;
  let db: Db;
  let hasher: CredentialHasher;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gs-hashes-'));
    db = openDb(join(dir, 'greenspace.db'));
    hasher = loadCredentialHasher(dir);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const hashOf = (table: 'devices' | 'service_accounts', id: string): string => (db.prepare(`SELECT secret_hash FROM ${table} WHERE id = ?`).get(id) as { secret_hash: string }).secret_hash;

  it('generates the data directory\'s credential key once, owner-only, and reads the same one again', () => {
    const path = join(dir, CREDENTIAL_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(loadCredentialHasher(dir).hash('s')).toBe(hasher.hash('s'));
    expect(createCredentialHasher(Buffer.alloc(32, 1)).hash('s')).not.toBe(hasher.hash('s'));
  });

  it('stores keyed hashes for registered, imported and rotated devices and for service accounts', async () => {
    const devices = createDeviceRegistry(db, { hasher });
    const parsed = parseInventoryText(DEMO, 'demo.yaml');
    if (!parsed.ok) throw new Error('the demo inventory does not parse');
    const { credentials } = await createInventoryService({ db, now: () => 0, devices, hashSecret: hasher.hash }).importInventory(parsed.value);
    // After the import: a device the file does not list would be retired by it.
    const registered = await devices.register({ id: 'soil-r', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    const rotated = await createDeviceLifecycle(db, { devices, hasher, disconnect: () => undefined }).rotateSecret('soil-r');
    const services = createServiceAccounts(db, { clock: systemClock, hasher, isDeviceId: (id) => devices.get(id) !== undefined });
    const created = await services.create({ id: 'cs', kind: 'chirpstack', applications: ['a1'] });
    const serviceRotated = await services.rotate('cs');

    const all = db.prepare('SELECT id, secret_hash FROM devices').all() as Array<{ id: string; secret_hash: string }>;
    expect(all.length).toBe(credentials.length + 1);
    expect(all.filter((r) => !KEYED.test(r.secret_hash))).toEqual([]);
    expect(hashOf('service_accounts', 'cs')).toMatch(KEYED);
    expect(devices.hasKeyedHash('soil-r')).toBe(true);
    expect(await devices.authenticate('soil-r', rotated.secret)).toMatchObject({ id: 'soil-r' });
    expect(await devices.authenticate('soil-r', registered.secret)).toBeUndefined();
    const imported = credentials[0]!;
    expect(await devices.authenticate(imported.deviceId, imported.secret)).toMatchObject({ id: imported.deviceId });
    expect(await services.authenticate('cs', serviceRotated.secret)).toMatchObject({ id: 'cs' });
    expect(await services.authenticate('cs', created.secret)).toBeUndefined();
  });

  it('keeps a person\'s password under scrypt, at creation and when changed', async () => {
    const users = createUserStore(db, { clock: systemClock });
    await users.create({ name: 'amy', role: 'operator', password: 'correct horse battery' });
    const hash = () => (db.prepare('SELECT password_hash FROM users WHERE name = ?').get('amy') as { password_hash: string }).password_hash;
    expect(hash()).toMatch(SCRYPT);
    await users.setPassword('amy', 'another long passphrase');
    expect(hash()).toMatch(SCRYPT);
    expect(await users.check('amy', 'another long passphrase')).toMatchObject({ name: 'amy' });
  });

  it('accepts a legacy scrypt device hash, replaces it with the keyed hash on success only, and the upgrade outlives a restart', async () => {
    let devices = createDeviceRegistry(db, { hasher });
    const { secret } = await devices.register({ id: 'soil-old', kind: 'soil' });
    db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(await hashSecret(secret), 'soil-old');
    devices = createDeviceRegistry(db, { hasher }); // as at a start on a data directory from before
    expect(devices.hasKeyedHash('soil-old')).toBe(false);
    expect(await devices.authenticate('soil-old', 'wrong')).toBeUndefined();
    expect(hashOf('devices', 'soil-old')).toMatch(SCRYPT);
    expect(await devices.authenticate('soil-old', secret)).toMatchObject({ id: 'soil-old' });
    expect(hashOf('devices', 'soil-old')).toMatch(KEYED);
    expect(devices.hasKeyedHash('soil-old')).toBe(true);
    const restarted = createDeviceRegistry(db, { hasher: loadCredentialHasher(dir) });
    expect(await restarted.authenticate('soil-old', secret)).toMatchObject({ id: 'soil-old' });
    // Under another key the stored hash matches nothing: the key is what a backup must carry.
    expect(await createDeviceRegistry(db, { hasher: createCredentialHasher(Buffer.alloc(32, 9)) }).authenticate('soil-old', secret)).toBeUndefined();
  });

  it('upgrades a legacy service-account hash the same way', async () => {
    const services = () => createServiceAccounts(db, { clock: systemClock, hasher, isDeviceId: () => false });
    const { secret } = await services().create({ id: 'ns', kind: 'tts', applications: ['green@ttn'] });
    db.prepare('UPDATE service_accounts SET secret_hash = ? WHERE id = ?').run(await hashSecret(secret), 'ns');
    const accounts = services();
    expect(accounts.hasKeyedHash('ns')).toBe(false);
    expect(await accounts.authenticate('ns', secret)).toMatchObject({ id: 'ns' });
    expect(hashOf('service_accounts', 'ns')).toMatch(KEYED);
  });

  it('keeps an upgrade on its node when the registry is replicated: nothing recorded to ship, the switch left on (a shipped row would undo a disable made meanwhile elsewhere)', async () => {
    const devices = createDeviceRegistry(db, { hasher });
    const services = createServiceAccounts(db, { clock: systemClock, hasher, isDeviceId: () => false });
    const device = await devices.register({ id: 'soil-old', kind: 'soil' });
    const account = await services.create({ id: 'ns', kind: 'tts', applications: ['green@ttn'] });
    db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(await hashSecret(device.secret), 'soil-old');
    db.prepare('UPDATE service_accounts SET secret_hash = ? WHERE id = ?').run(await hashSecret(account.secret), 'ns');
    const local = createLocalReplica(db);
    local.capture(true);
    const legacyDevices = createDeviceRegistry(db, { hasher });
    const legacyServices = createServiceAccounts(db, { clock: systemClock, hasher, isDeviceId: () => false });
    expect(await legacyDevices.authenticate('soil-old', device.secret)).toMatchObject({ id: 'soil-old' });
    expect(await legacyServices.authenticate('ns', account.secret)).toMatchObject({ id: 'ns' });
    expect(hashOf('devices', 'soil-old')).toMatch(KEYED);
    expect(hashOf('service_accounts', 'ns')).toMatch(KEYED);
    expect(local.pending().keys).toEqual([]);
    // The switch is back on: a real change is still recorded.
    db.prepare("UPDATE devices SET disabled = 1 WHERE id = 'soil-old'").run();
    expect(local.pending().keys).toEqual([{ tbl: 'devices', pk: keyText(['soil-old']) }]);
  });
});

describe('a credential key file given to every node (GS_CREDENTIAL_KEY_FILE)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'gs-keyfile-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const KEY = 'ab'.repeat(32);
  const keyFile = (text: string, mode = 0o600): string => {
    const path = join(dir, 'cluster-key');
    writeFileSync(path, text, { mode });
    chmodSync(path, mode); // the umask may have taken bits off
    return path;
  };

  it('two data directories given the same file hash alike, and generate no key of their own', () => {
    const path = keyFile(`${KEY}\n`);
    const [a, b] = ['a', 'b'].map((n) => { const d = join(dir, n); mkdirSync(d); return d; });
    const hash = loadCredentialHasher(a!, undefined, path).hash('s');
    expect(loadCredentialHasher(b!, undefined, path).hash('s')).toBe(hash);
    expect(hash).toBe(createCredentialHasher(Buffer.from(KEY, 'hex')).hash('s'));
    expect(loadCredentialHasher(b!).hash('s')).not.toBe(hash); // b's own key, generated now: another hash
    expect(() => statSync(join(a!, CREDENTIAL_KEY_FILE))).toThrow(/ENOENT/);
  });

  it.each([
    ['open to others', () => keyFile(KEY, 0o644), /GS_CREDENTIAL_KEY_FILE .*cluster-key: is open to group or others \(mode 0644\): chmod 600/],
    ['open to the group', () => keyFile(KEY, 0o640), /mode 0640/],
    ['too short', () => keyFile('ab'.repeat(31)), /is not a hex key of 32 bytes or more/],
    ['not hex', () => keyFile('zz'.repeat(32)), /is not a hex key/],
    ['empty', () => keyFile(''), /is not a hex key/],
    ['larger than a key', () => keyFile('a'.repeat(CREDENTIAL_KEY_FILE_MAX_BYTES + 1)), /is 4097 bytes, more than a key \(at most 4096\)/],
    ['a directory', () => dir, /is not a regular file/],
    ['missing', () => join(dir, 'nope'), /cannot be read \(ENOENT\)/],
  ])('refuses a key file %s, naming the setting and the path', (_what, make, message) => {
    const path = make();
    expect(() => readCredentialKeyFile(path)).toThrow(message);
    expect(() => loadCredentialHasher(dir, undefined, path)).toThrow(/^GS_CREDENTIAL_KEY_FILE /);
  });
});
