import { randomBytes, scrypt, timingSafeEqual, createHash, createHmac } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { loadOrCreateSecretFile } from '../lib/secret-file.ts';

// scrypt N=2^14, r=8, p=1: OWASP's minimum for scrypt; ~25 ms on these machines, run on
// libuv's thread pool so the event loop keeps serving other clients meanwhile. For secrets a
// person chose (passwords): a slow hash makes guessing a weak one from a stolen copy costly.
const N = 16_384;
const R = 8;
const P = 1;
const KEY_LEN = 32;

/** 24 random bytes (192 bits): no dictionary holds it, so guessing costs 2^191 tries on average whatever the hash. */
export const generateSecret = (): string => randomBytes(24).toString('base64url');

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash`, both base64url: the parameters travel with the hash. For secrets a person chose. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(secret, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** For API tokens: high-entropy random strings need a fast keyed lookup, not a slow hash. */
export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The data directory's file holding the credential key (hex, 0600); `cli backup` carries it. */
export const CREDENTIAL_KEY_FILE = 'credential-key';
const KEYED_PREFIX = 'hmac-sha256$v1$';

/**
 * Hashes of secrets the system generated (device and service-account secrets):
 * `hmac-sha256$v1$<hex>`, HMAC-SHA256 under the data directory's credential key.
 *
 * Why not scrypt: a generated secret has 192 random bits, so a slow hash buys nothing
 * against guessing, while it cost ~25 ms of the thread pool per check: ~80 checks/s, and
 * ten minutes for a city of 50,000 devices to reconnect after a restart. The key (not in
 * the database) keeps a copy of the database alone from being a list of checkable hashes.
 * `v1` names the key: a second key would be `v2`, its hashes told apart by the prefix.
 *
 * Hashes stored before (`scrypt$…`) are still accepted; a successful check returns the keyed
 * hash to store instead (`upgrade`), so every legacy hash is gone after one login each.
 */
export function createCredentialHasher(key: Buffer) {
  if (key.length < 32) throw new Error(`the credential key must be at least 32 bytes, not ${key.length}`);
  const mac = (secret: string): Buffer => createHmac('sha256', key).update(secret, 'utf8').digest();
  const isKeyed = (stored: string): boolean => stored.startsWith(KEYED_PREFIX);
  /** Constant time in the secret: a wrong secret and a right one take the same path. */
  const verifyKeyed = (secret: string, stored: string): boolean => {
    const expected = Buffer.from(stored.slice(KEYED_PREFIX.length), 'hex');
    const actual = mac(secret);
    return isKeyed(stored) && expected.length === actual.length && timingSafeEqual(expected, actual);
  };
  return {
    hash: (secret: string): string => KEYED_PREFIX + mac(secret).toString('hex'),
    isKeyed,
    verifyKeyed,
    /** Any stored form; `upgrade` is the keyed hash to store when a legacy scrypt hash matched. */
    async verify(secret: string, stored: string): Promise<{ ok: boolean; upgrade?: string }> {
      if (isKeyed(stored)) return { ok: verifyKeyed(secret, stored) };
      const ok = await verifySecret(secret, stored);
      return ok ? { ok, upgrade: KEYED_PREFIX + mac(secret).toString('hex') } : { ok };
    },
  };
}
export type CredentialHasher = ReturnType<typeof createCredentialHasher>;

/** A key file is a line of hex: 32 bytes are 64 characters; anything past 4 KiB is not one. */
export const CREDENTIAL_KEY_FILE_MAX_BYTES = 4_096;
const HEX_KEY = /^[0-9a-f]{64,}$/;

/**
 * The key from an operator's file (GS_CREDENTIAL_KEY_FILE: one file given to every node of
 * a cluster). Refused, naming the setting, unless it is a regular file of at most 4 KiB that
 * neither group nor others can read or write (it is the one secret that makes the stored
 * hashes checkable, like the data directory's own 0600 key) holding 32 bytes or more in hex.
 */
export function readCredentialKeyFile(path: string, setting = 'GS_CREDENTIAL_KEY_FILE'): Buffer {
  const refuse = (why: string, cause?: unknown): never => {
    throw new CodedError('credential_key_file', `${setting} ${path}: ${why}`, { cause });
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return refuse(`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error);
  }
  try {
    const stat = fstatSync(fd); // of the file opened: no swap between the check and the read
    if (!stat.isFile()) return refuse('is not a regular file');
    if ((stat.mode & 0o077) !== 0) return refuse(`is open to group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it, owned by the user the server runs as`);
    if (stat.size > CREDENTIAL_KEY_FILE_MAX_BYTES) return refuse(`is ${stat.size} bytes, more than a key (at most ${CREDENTIAL_KEY_FILE_MAX_BYTES}): is it the right file?`);
    const buffer = Buffer.alloc(stat.size);
    const read = stat.size === 0 ? 0 : readSync(fd, buffer, 0, stat.size, 0);
    const text = buffer.subarray(0, read).toString('utf8').trim();
    if (!HEX_KEY.test(text)) return refuse('is not a hex key of 32 bytes or more (64 hex digits, lower case; e.g. `openssl rand -hex 32`)');
    return Buffer.from(text, 'hex');
  } finally {
    closeSync(fd);
  }
}

/**
 * The credential hasher: its key from `keyFile` when one is given (GS_CREDENTIAL_KEY_FILE,
 * the same on every node of a cluster), else the data directory's `credential-key`,
 * generated there on first use.
 */
export function loadCredentialHasher(dataDir: string, logger?: Logger, keyFile?: string): CredentialHasher {
  if (keyFile !== undefined) return createCredentialHasher(readCredentialKeyFile(keyFile));
  const text = loadOrCreateSecretFile(join(dataDir, CREDENTIAL_KEY_FILE), () => randomBytes(32).toString('hex'), { logger, what: 'the key device and service-account secrets are hashed with' });
  if (!HEX_KEY.test(text)) throw new Error(`${join(dataDir, CREDENTIAL_KEY_FILE)} is not a hex key of 32 bytes or more: restore it from a backup`);
  return createCredentialHasher(Buffer.from(text, 'hex'));
}
