import { z } from 'zod';

/**
 * What a resident may report from the community's public page: the city's 毁绿举报 and
 * 居民监督渠道 — a damaged facility, green space dug up or planted with vegetables (or
 * otherwise occupied), a watering problem, anything else.
 */
export const REPORT_CATEGORIES = ['facility_damaged', 'green_space_destroyed', 'watering_problem', 'other'] as const;
export const ReportCategory = z.enum(REPORT_CATEGORIES);

export const ResidentReport = z.strictObject({
  category: ReportCategory,
  /** Free text, short: what and where exactly. */
  text: z.string().trim().min(2).max(1000),
  /** A facility or zone of the community the resident picked, if any. */
  place: z.string().max(100).optional(),
});
export type ResidentReport = z.infer<typeof ResidentReport>;

/**
 * A report's reference as a resident may type it, by shape only (lib/signed-link.ts checks
 * its signature): `123-7KQ2-M9XA` (spaces, case and a missing middle dash forgiven there), or
 * the first form, `123-` and 12 base64url characters. Checked before any path is built from
 * it: no dots, slashes, percent signs or query characters get through.
 */
export const REPORT_REFERENCE_SHAPE = /^\d{1,15}-[0-9A-Za-z_-]{8,12}$/;
export const ReportReference = z
  .string()
  .max(40, 'expected a reference such as 123-7KQ2-M9XA')
  .refine((typed) => REPORT_REFERENCE_SHAPE.test(typed.replace(/\s+/g, '')), 'expected a reference such as 123-7KQ2-M9XA');
