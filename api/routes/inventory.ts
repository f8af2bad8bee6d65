import { z } from 'zod';
import { validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { allow } from '../auth.ts';
import { DeviceCredential, ImportReport, Inventory } from '../../contracts/inventory.ts';
import type { InventoryService } from '../../inventory/service.ts';
import { INVENTORY_LIMITS } from '../../inventory/parse.ts';
import { formatInventory } from '../../inventory/export.ts';

const Issue = z.object({ path: z.string(), message: z.string(), line: z.number().optional() });
const ErrorBody = z.object({ error: z.string(), message: z.string() });
const ProblemBody = ErrorBody.extend({
  issues: z.array(Issue),
});
const toIssue = (p: { path: string; message: string; line?: number }) => ({ path: p.path, message: p.message, ...(p.line === undefined ? {} : { line: p.line }) });
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const SOURCE = 'request body';
/** Admins only, and an admin token is never confined to districts. */
const WHOLE_CITY = 'the whole city\'s inventory; admins only, never confined';

export const inventoryRoutes: FastifyPluginAsyncZod<{ inventory: InventoryService }> = async (app, opts) => {
  // Bodies stay text until the inventory parser reads them on its worker thread
  // (inventory/parse-thread.ts): the city's YAML took the event loop ~3 s, and JSON is
  // validated there too. YAML problems carry line numbers.
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: INVENTORY_LIMITS.maxBytes }, (_request, body, done) => done(null, body));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: INVENTORY_LIMITS.maxBytes }, (_request, body, done) => done(null, body));

  app.put(
    '/inventory',
    {
      onRequest: allow.admins,
      config: { scope: { global: WHOLE_CITY } },
      bodyLimit: INVENTORY_LIMITS.maxBytes,
      // The inventory parser validates the body itself (same messages as the CLI: path,
      // problem, line); the schema is here for the OpenAPI document.
      validatorCompiler: (route) => (route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0])),
      schema: {
        summary: 'Make the registry match an inventory (JSON, or YAML with Content-Type application/yaml). '
          + 'Rows the inventory no longer lists are retired (prune=true deletes them); new devices\' secrets are returned once. '
          + 'A zone band its soil cannot hold is refused (400); a valve too small for its zone\'s hot days imports with a warning.',
        security: [{ bearer: [] }],
        querystring: z.object({ prune: z.enum(['true', 'false']).optional(), dryRun: z.enum(['true', 'false']).optional() }),
        body: Inventory,
        response: {
          200: z.object({
            report: ImportReport,
            credentials: z.array(DeviceCredential),
            /** Imported, but will not work as hoped: a valve that cannot give a hot day's water inside the zone's windows. */
            warnings: z.array(Issue),
          }),
          400: ProblemBody, 409: ErrorBody, 413: ErrorBody },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const isYaml = YAML_TYPES.some((t) => request.headers['content-type']?.startsWith(t));
      const parsed = await opts.inventory.parseInventory(typeof body === 'string' ? body : JSON.stringify(body ?? null), SOURCE, isYaml ? 'yaml' : 'json');
      if (!parsed.ok) {
        return reply.code(400).send({
          error: 'bad_request',
          message: 'invalid inventory',
          issues: parsed.error.map(toIssue),
        });
      }
      const prune = request.query.prune === 'true';
      const warnings = parsed.warnings.map(toIssue);
      if (request.query.dryRun === 'true') return { report: opts.inventory.previewInventory(parsed.value, { prune }), credentials: [], warnings };
      return { ...await opts.inventory.importInventory(parsed.value, { prune }), warnings };
    },
  );

  app.get(
    '/inventory',
    {
      onRequest: allow.admins,
      config: { scope: { global: WHOLE_CITY } },
      schema: {
        summary: 'The live registry as an inventory document (retired rows left out); YAML with Accept: application/yaml',
        security: [{ bearer: [] }],
        response: { 200: Inventory },
      },
    },
    async (request, reply) => {
      const inventory = opts.inventory.exportInventory();
      if (!YAML_TYPES.some((t) => request.headers.accept?.includes(t))) return inventory;
      // The same bytes as `npm run cli -- inventory export`, bypassing the JSON serializer.
      return reply.type('application/yaml; charset=utf-8').serializer((text: unknown) => String(text))
        .send(formatInventory(inventory) as unknown as Inventory);
    },
  );
};
