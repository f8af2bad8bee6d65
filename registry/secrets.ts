import { randomBytes, scrypt, timingSafeEqual, createHash } from 'node:crypto';

// scrypt N=2^14, r=8, p=1: OWASP's minimum for scrypt; ~25 ms on these machines, run on
// libuv's thread pool so the event loop keeps serving other clients meanwhile.
const N = 16_384;
const R = 8;
const P = 1;
const KEY_LEN = 32;

export const generateSecret = (): string => randomBytes(24).toString('base64url');

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash`, both base64url: the parameters travel with the hash. */
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
