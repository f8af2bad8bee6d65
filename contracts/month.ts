import { z } from 'zod';

/**
 * A calendar month as the scorecard is asked for it (`2026-07`): the API's query and the
 * scorecard page validate with this one schema, so the page cannot accept what the API refuses.
 */
export const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM');
export type Month = z.infer<typeof Month>;
