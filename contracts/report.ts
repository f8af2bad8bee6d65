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
