import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { DeviceRegistration } from '../../contracts/device.ts';
import { DeviceKind } from '../../contracts/reading.ts';
import type { DeviceRegistry } from '../../registry/devices.ts';

const DeviceView = z.object({
  id: z.string(),
  kind: DeviceKind,
  devEui: z.string().optional(),
  reportIntervalS: z.number(),
  disabled: z.boolean(),
  district: z.string().optional(),
  community: z.string().optional(),
  zone: z.string().optional(),
  facility: z.string().optional(),
});

const view = (d: ReturnType<DeviceRegistry['list']>[number]): z.infer<typeof DeviceView> => ({
  id: d.id, kind: d.kind, devEui: d.devEui, reportIntervalS: d.reportIntervalS, disabled: d.disabled,
  district: d.districtId, community: d.communityId, zone: d.zoneId, facility: d.facilityId,
});

const ErrorBody = z.object({ error: z.string(), message: z.string() });

export const deviceRoutes: FastifyPluginAsyncZod<{ devices: DeviceRegistry; requireAdmin: preHandlerAsyncHookHandler }> = async (app, opts) => {
  app.post(
    '/devices',
    {
      preHandler: opts.requireAdmin,
      schema: {
        summary: 'Register a device; its MQTT secret is returned once and only its hash is kept',
        security: [{ bearer: [] }],
        body: DeviceRegistration,
        response: { 201: z.object({ device: DeviceView, secret: z.string() }), 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const { device, secret } = await opts.devices.register(request.body);
      return reply.code(201).send({ device: view(device), secret });
    },
  );

  app.get(
    '/devices/:id',
    {
      preHandler: opts.requireAdmin,
      schema: { summary: 'One device', security: [{ bearer: [] }], params: z.object({ id: z.string() }), response: { 200: DeviceView, 404: ErrorBody } },
    },
    async (request, reply) => {
      const device = opts.devices.get(request.params.id);
      if (!device) return reply.code(404).send({ error: 'not_found', message: `no device ${request.params.id}` });
      return view(device);
    },
  );

  app.get(
    '/devices',
    { preHandler: opts.requireAdmin, schema: { summary: 'All devices', security: [{ bearer: [] }], response: { 200: z.array(DeviceView) } } },
    async () => opts.devices.list().map(view),
  );
};
