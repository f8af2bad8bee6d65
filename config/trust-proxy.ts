import { isIP } from 'node:net';
import { z } from 'zod';

/** proxy-addr's names for address ranges (Fastify passes trustProxy to proxy-addr). */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_PROXIES = 64;
const MAX_HOPS = 10;

/** An address, an address/prefix (CIDR), or one of proxy-addr's range names. */
export function isProxyAddress(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which connections may say who the client is (X-Forwarded-For): a list of proxy addresses
 * or CIDRs (`127.0.0.1,10.0.0.0/8`), or a hop count (`1`: the connecting peer is a proxy,
 * the last forwarded address is the client). Unset: trust none, so `request.ip` is the peer
 * and a forged header from a direct client changes nothing. A hop count trusts whoever
 * connects: use it only when the server is reachable through the proxy alone.
 */
const HopCount = z.number().int('expected a whole hop count').min(1, `expected a hop count 1-${MAX_HOPS}`).max(MAX_HOPS, `expected a hop count 1-${MAX_HOPS}`);
const ProxyList = z.array(
  z.string().max(64, 'expected an address or CIDR of at most 64 characters').refine(isProxyAddress, 'expected an IP address, a CIDR such as 10.0.0.0/8, or loopback/linklocal/uniquelocal'),
).min(1, 'expected at least one proxy address').max(MAX_PROXIES, `expected at most ${MAX_PROXIES} proxy addresses`);

/** `"1"` → 1, `"a, b"` → ["a", "b"]; numbers and lists (a config file's) as they are. */
function toHopsOrList(value: string | number | unknown[]): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  return text.split(',').map((part) => part.trim()).filter((part) => part !== '');
}

/**
 * Which connections may say who the client is (X-Forwarded-For): a list of proxy addresses
 * or CIDRs (`127.0.0.1,10.0.0.0/8`), or a hop count (`1`: the connecting peer is a proxy,
 * the last forwarded address is the client). Unset: trust none, so `request.ip` is the peer
 * and a forged header from a direct client changes nothing. A hop count trusts whoever
 * connects: use it only when the server is reachable through the proxy alone.
 * Checked in two steps rather than as a zod union, whose failure would hide which
 * bound was crossed behind one generic message.
 */
export const TrustProxy = z
  .union([z.string().max(MAX_PROXIES * 65, 'expected a shorter list of proxy addresses'), z.number(), z.array(z.unknown())], { error: 'expected a comma-separated list of proxy addresses/CIDRs, or a hop count' })
  .transform((value, ctx): number | string[] => {
    const setting = toHopsOrList(value);
    const result = typeof setting === 'number' ? HopCount.safeParse(setting) : ProxyList.safeParse(setting);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
    return z.NEVER;
  });
export type TrustProxy = z.infer<typeof TrustProxy>;
