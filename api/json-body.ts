import type { FastifyInstance } from 'fastify';
import { scanJson } from '../lib/bounded-yaml.ts';

/**
 * JSON request bodies, bounded: at most `maxBytes` (413 past it, before the body is read
 * whole) and nested at most `maxDepth` levels (400). No route's body nests beyond ~5
 * levels; the inventory, the largest, has its own parser and limit (routes/inventory.ts).
 * A linear scan checks the depth before JSON.parse builds anything, then fastify's own
 * parser runs (it also refuses `__proto__` and `constructor.prototype` keys).
 */
export const JSON_BODY_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64 };

export function installJsonBody(app: FastifyInstance, limits = JSON_BODY_LIMITS): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limits.maxBytes }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const tooDeep = scanJson(text, limits.maxDepth);
    if (tooDeep) return done(Object.assign(new Error(`JSON body ${tooDeep.message}`), { statusCode: 400, code: 'GS_JSON_TOO_DEEP' }), undefined);
    parseJson(request, text, done);
  });
}
