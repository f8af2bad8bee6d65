import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DeviceRegistration, type DeviceInfo } from '../../contracts/device.ts';
import { DeviceKind } from '../../contracts/reading.ts';
import { DeviceBinding, DeviceMove } from '../../contracts/device-lifecycle.ts';
import type { DeviceRegistry } from '../../registry/devices.ts';
import type { DeviceLifecycle } from '../../registry/device-lifecycle.ts';
import { CodedError } from '../../lib/errors.ts';
import { actorOf, allow } from '../auth.ts';
import { canAccessDistrict } from '../scope.ts';

const DeviceView = z.object({
  id: z.string(),
  kind: DeviceKind,
  devEui: z.string().optional(),
  /** The network-server application bound to speak for it; absent = unbound. */
  lorawanApplication: z.string().optional(),
  /** The device profile its decoded uplinks are read with (GET /api/v1/device-profiles/{id}); absent = generic names. */
  profile: z.string().optional(),
  reportIntervalS: z.number(),
  disabled: z.boolean(),
  district: z.string().optional(),
  community: z.string().optional(),
  zone: z.string().optional(),
  facility: z.string().optional(),
});

const view = (d: DeviceInfo): z.infer<typeof DeviceView> => ({
  id: d.id, kind: d.kind, devEui: d.devEui, lorawanApplication: d.lorawanApplication, profile: d.profile, reportIntervalS: d.reportIntervalS, disabled: d.disabled,
  district: d.districtId, community: d.communityId, zone: d.zoneId, facility: d.facilityId,
});

const ErrorBody = z.object({ error: z.string(), message: z.string() });
/** A 400: the fields at fault with their dotted paths, as schema validation reports them. */
const InvalidBody = ErrorBody.extend({ issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });
const Id = z.object({ id: z.string().min(1).max(64) });
const WithSecret = z.object({ device: DeviceView, secret: z.string() });

export interface DeviceRouteDeps {
  devices: DeviceRegistry;
  lifecycle: DeviceLifecycle;
}

export const deviceRoutes: FastifyPluginAsyncZod<DeviceRouteDeps> = async (app, opts) => {
  const one = { scope: { object: 'device' } } as const;
  // Technicians replace devices in the field and may need to re-key one: allow.adminsOperatorsTechnicians.

  /** The device (a device outside the caller's districts was answered 404 by the scope check). */
  const existing = (id: string): DeviceInfo => {
    const device = opts.devices.get(id);
    if (!device) throw new CodedError('not_found', `no device ${id}`);
    return device;
  };

  app.post('/devices', {
    onRequest: allow.adminsOperatorsServices,
    config: { scope: { into: 'device' } },
    schema: {
      summary: 'Register a device; its MQTT secret is returned once and only its hash is kept',
      tags: ['devices'],
      body: DeviceRegistration,
      response: { 201: WithSecret, 403: ErrorBody, 409: ErrorBody },
    },
  }, async (request, reply) => {
    const { device, secret } = await opts.devices.register(request.body);
    return reply.code(201).send({ device: view(device), secret });
  });

  app.get('/devices/:id', {
    onRequest: allow.everyRole,
    config: one,
    schema: { summary: 'One device', tags: ['devices'], params: Id, response: { 200: DeviceView, 404: ErrorBody } },
  }, async (request) => view(existing(request.params.id)));

  app.get('/devices', {
    onRequest: allow.everyRole,
    config: { scope: { list: 'device' } },
    schema: { summary: "All devices (within the token's districts)", tags: ['devices'], response: { 200: z.array(DeviceView) } },
  }, async (request) => opts.devices.list().filter((d) => canAccessDistrict(request.principal, d.districtId)).map(view));

  app.post('/devices/:id/secret', {
    onRequest: allow.adminsOperatorsTechnicians,
    config: one,
    schema: {
      summary: 'Rotate the MQTT secret: the old one stops working at once and a live connection is dropped',
      tags: ['devices'],
      params: Id,
      response: { 200: WithSecret, 404: ErrorBody },
    },
  }, async (request) => {
    existing(request.params.id);
    const { device, secret } = await opts.lifecycle.rotateSecret(request.params.id);
    return { device: view(device), secret };
  });

  app.post('/devices/:id/disable', {
    onRequest: allow.adminsOperators,
    config: one,
    schema: { summary: 'Disable a device: its connection is dropped, reconnects are refused', tags: ['devices'], params: Id, response: { 200: DeviceView, 404: ErrorBody } },
  }, async (request) => {
    existing(request.params.id);
    return view(opts.lifecycle.setDisabled(request.params.id, true));
  });

  app.post('/devices/:id/enable', {
    onRequest: allow.adminsOperators,
    config: one,
    schema: { summary: 'Enable a disabled device', tags: ['devices'], params: Id, response: { 200: DeviceView, 404: ErrorBody } },
  }, async (request) => {
    existing(request.params.id);
    return view(opts.lifecycle.setDisabled(request.params.id, false));
  });

  app.post('/devices/:id/move', {
    onRequest: allow.adminsOperators,
    config: one,
    schema: {
      summary: 'Move a device to another zone, facility or community; later points carry the new tags',
      tags: ['devices'],
      params: Id,
      body: DeviceMove,
      response: { 200: DeviceView, 404: ErrorBody },
    },
  }, async (request) => {
    existing(request.params.id);
    const district = opts.lifecycle.districtOf(request.body);
    if (district !== undefined && !canAccessDistrict(request.principal, district)) throw new CodedError('not_found', 'no such place in this token\'s districts');
    return view(opts.lifecycle.move(request.params.id, request.body));
  });

  app.patch('/devices/:id', {
    onRequest: allow.adminsOperators,
    config: one,
    schema: {
      summary: 'Bind a LoRaWAN device to its network-server application (ChirpStack application id, or TTS {application}@{tenant}), or unbind it with null; effective from the next uplink, until an inventory import sets it again',
      tags: ['devices'],
      params: Id,
      body: DeviceBinding,
      response: { 200: DeviceView, 400: InvalidBody, 404: ErrorBody },
    },
  }, async (request) => {
    const previous = existing(request.params.id).lorawanApplication ?? null;
    const device = opts.lifecycle.bindApplication(request.params.id, request.body);
    // The registry keeps no history of device changes; the log records who changed a binding.
    request.log.info({ device: device.id, lorawanApplication: device.lorawanApplication ?? null, previous, by: actorOf(request) }, 'device LoRaWAN binding set');
    return view(device);
  });
};
