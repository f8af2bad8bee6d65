import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { allow } from '../auth.ts';
import { DeviceProfileView } from '../../contracts/device-profile.ts';
import type { ProfileSet } from '../../ingest/profile-set.ts';

const global = { scope: { global: 'device profiles describe sensor models, not a place' } } as const;
const NotFound = z.object({ error: z.string(), message: z.string() });

/**
 * The device profiles in force: the shipped models, the operator's (GS_DEVICE_PROFILES_DIR)
 * and the generic field names per kind. Every role reads them: the installer choosing a
 * profile for a device in the field needs them as much as the operator.
 */
export const deviceProfileRoutes: FastifyPluginAsyncZod<{ profiles: ProfileSet }> = async (app, opts) => {
  app.get(
    '/device-profiles',
    {
      onRequest: allow.everyRole,
      config: global,
      schema: {
        summary: 'Device profiles in force: how each sensor model\'s decoded uplinks map to our fields (names, units, ranges, battery curve, history)',
        security: [{ bearer: [] }],
        response: { 200: z.array(DeviceProfileView) },
      },
    },
    async () => opts.profiles.list(),
  );
  app.get(
    '/device-profiles/:id',
    {
      onRequest: allow.everyRole,
      config: global,
      schema: {
        summary: 'One device profile',
        security: [{ bearer: [] }],
        params: z.object({ id: z.string().max(80) }),
        response: { 200: DeviceProfileView, 404: NotFound },
      },
    },
    async (request, reply) => {
      const profile = opts.profiles.get(request.params.id);
      if (!profile) return reply.code(404).send({ error: 'not_found', message: `no device profile ${request.params.id}` });
      return profile;
    },
  );
};
