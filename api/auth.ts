import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sha256 } from '../registry/secrets.ts';

/**
 * Bearer-token check for the bootstrap admin token. Compared as SHA-256 digests with
 * timingSafeEqual, so neither length nor content leaks through timing.
 */
export function createAdminGuard(adminToken: string) {
  const expected = Buffer.from(sha256(adminToken), 'hex');
  return async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'unauthorized', message: 'an Authorization: Bearer token is required' });
      return reply;
    }
    if (!timingSafeEqual(Buffer.from(sha256(token), 'hex'), expected)) {
      await reply.code(403).send({ error: 'forbidden', message: 'this token may not use this route' });
      return reply;
    }
  };
}
