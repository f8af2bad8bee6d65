import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AlertService } from '../../alerts/alert-service.ts';
import { checkAckLink, type AckLinkFields } from '../../lib/signed-link.ts';
import { CodedError } from '../../lib/errors.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Id = z.object({ id: z.coerce.number().int().positive() });
/** The link's own fields: recipient, expiry (epoch s), signature. */
export const LinkProof = z.object({ r: z.string().min(1).max(200), x: z.coerce.number().int().positive(), s: z.string().min(1).max(100) });
/** What a link holder sees: enough to know what to go and look at, nothing of the ledger. */
export const LinkedAlert = z.object({
  id: z.number(), kind: z.string(), severity: z.string(), state: z.string(), message: z.string(), subject: z.string(),
  communityId: z.string().nullable(), firstFiredAt: z.number(), acknowledgedBy: z.string().nullable(),
});

export interface AckLinkRouteOptions {
  alerts: AlertService;
  key: Buffer;
  now: () => number;
}

/**
 * The one-tap acknowledge link of a notification (lib/signed-link.ts): no login, the
 * signed link is the capability for one alert and one recipient until it expires.
 * Refused (403) when expired, tampered with, or presented for another alert; a tap on an
 * alert already acknowledged or resolved answers its state (a second tap is harmless).
 * The acknowledgement is recorded as by the link's recipient, so the ledger shows who.
 */
export const ackLinkRoutes: FastifyPluginAsyncZod<AckLinkRouteOptions> = async (app, opts) => {
  const config = { scope: { global: 'the signed link is the capability: it names its one alert' } } as const;

  const prove = async (id: number, proof: z.infer<typeof LinkProof>) => {
    const fields: AckLinkFields = { alertId: id, recipient: proof.r, expiresAtS: proof.x };
    const check = checkAckLink(opts.key, fields, proof.s, opts.now());
    if (check === 'expired') throw new CodedError('forbidden', 'this acknowledge link has expired: open the alert in the app, or use a newer message');
    if (check === 'invalid') throw new CodedError('forbidden', 'this acknowledge link is not valid for this alert');
    const alert = await opts.alerts.get(id);
    if (!alert) throw new CodedError('not_found', `no alert ${id}`);
    return alert;
  };
  const view = (a: NonNullable<Awaited<ReturnType<AlertService['get']>>>): z.infer<typeof LinkedAlert> => ({
    id: a.id, kind: a.kind, severity: a.severity, state: a.state, message: a.message, subject: a.subject, communityId: a.communityId, firstFiredAt: a.firstFiredAt, acknowledgedBy: a.acknowledgedBy,
  });

  app.get('/alerts/:id/link', {
    config,
    schema: { summary: 'The alert a signed acknowledge link names (no login: the link is the proof)', tags: ['alerts'], params: Id, querystring: LinkProof, response: { 200: LinkedAlert, 403: ErrorBody, 404: ErrorBody } },
  }, async (request) => view(await prove(request.params.id, request.query)));

  app.post('/alerts/:id/link-ack', {
    config,
    schema: {
      summary: 'Acknowledge the alert a signed link names, with an optional note (no login); recorded as by the link\'s recipient',
      tags: ['alerts'], params: Id, body: LinkProof.extend({ note: z.string().trim().max(2000).optional() }), response: { 200: LinkedAlert, 403: ErrorBody, 404: ErrorBody },
    },
  }, async (request) => {
    const alert = await prove(request.params.id, request.body);
    if (alert.state !== 'firing') return view(alert);
    const note = request.body.note || undefined;
    return view(await opts.alerts.acknowledge(alert.id, { by: `${request.body.r} (link)`, ...(note ? { note } : {}) }));
  });
};
