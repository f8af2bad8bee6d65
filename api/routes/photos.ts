import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WorkOrderService } from '../../alerts/work-orders/service.ts';
import { CodedError } from '../../lib/errors.ts';
import { allow } from '../auth.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
/** A phone camera's JPEG is 2–6 MB; 10 MB leaves room and stops a video sent by mistake. */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/** What a photo is, from its first bytes (a declared type is the client's word, not the file's). */
const SIGNATURES: Array<{ ext: string; type: string; test: (b: Buffer) => boolean }> = [
  { ext: 'jpg', type: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { ext: 'png', type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { ext: 'webp', type: 'image/webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];
/** The photo's kind from its bytes, or undefined when it is none we keep. */
export const photoKind = (bytes: Buffer) => SIGNATURES.find((s) => s.test(bytes));
const TYPE_BY_EXT = new Map(SIGNATURES.map((s) => [s.ext, s.type]));
const FILE = /^[a-f0-9]{24}\.(jpg|png|webp)$/;

/**
 * Work-order photos from the technician's phone camera: JPEG, PNG or WebP (judged by the
 * bytes), at most 10 MB, stored under `{dataDir}/photos/{workOrderId}/`, served only to
 * those who may read the work order (its district scope included). The resolve step
 * records the photo's URL.
 */
export const photoRoutes: FastifyPluginAsyncZod<{ workOrders: WorkOrderService; dir: string }> = async (app, opts) => {
  await app.register(multipart, { limits: { fileSize: MAX_PHOTO_BYTES, files: 1, fields: 5, parts: 6 } });
  const config = { scope: { object: 'work-order' } } as const;
  const mustExist = async (id: number) => {
    if (!(await opts.workOrders.get(id))) throw new CodedError('not_found', `no work order ${id}`);
  };

  app.post('/work-orders/:id/photos', {
    onRequest: allow.adminsOperatorsTechnicians, config,
    schema: {
      summary: 'Upload a photo of the work (multipart field `photo`: JPEG, PNG or WebP, at most 10 MB); returns its URL for the resolve step',
      params: z.object({ id: z.coerce.number().int().positive() }), response: { 201: z.object({ url: z.string(), bytes: z.number() }), 400: ErrorBody, 404: ErrorBody, 413: ErrorBody },
    },
  }, async (request, reply) => {
    await mustExist(request.params.id);
    const file = await request.file();
    if (!file) throw new CodedError('bad_request', 'no file: send it as the multipart field `photo`');
    const bytes = await file.toBuffer().catch((error: unknown) => {
      if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw Object.assign(new Error(`a photo is at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB`), { statusCode: 413 });
      throw error;
    });
    const kind = SIGNATURES.find((s) => s.test(bytes));
    if (!kind) throw new CodedError('bad_request', 'only JPEG, PNG or WebP photos are kept');
    const dir = join(opts.dir, String(request.params.id));
    mkdirSync(dir, { recursive: true });
    const name = `${randomBytes(12).toString('hex')}.${kind.ext}`;
    writeFileSync(join(dir, name), bytes, { mode: 0o640 });
    return reply.code(201).send({ url: `/api/v1/work-orders/${request.params.id}/photos/${name}`, bytes: bytes.length });
  });

  app.get('/work-orders/:id/photos/:file', {
    onRequest: allow.adminsOperatorsTechniciansViewers, config,
    schema: { summary: 'A photo of a work order, to those who may read the work order', params: z.object({ id: z.coerce.number().int().positive(), file: z.string() }) },
  }, async (request, reply) => {
    await mustExist(request.params.id);
    const match = FILE.exec(request.params.file);
    const path = join(opts.dir, String(request.params.id), request.params.file);
    if (!match || !existsSync(path)) throw new CodedError('not_found', `no photo ${request.params.file}`);
    return reply.type(TYPE_BY_EXT.get(match[1]!)!).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'private, max-age=86400').send(readFileSync(path));
  });
};
