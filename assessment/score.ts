import { z } from 'zod';

/** What the scorecard measures for one community over one month (null: nothing to measure). */
export const CommunityMetrics = z.object({
  communityId: z.string(),
  districtId: z.string().nullable(),
  devices: z.number().int(),
  /** Mean over devices of min(1, readings received / readings expected). */
  uptime: z.number().nullable(),
  zones: z.number().int(),
  /** Hours a zone's median moisture was inside its band / hours with data, over all zones. */
  inBand: z.number().nullable(),
  alerts: z.number().int(),
  mttaMs: z.number().nullable(),
  mttrMs: z.number().nullable(),
  workOrdersDue: z.number().int(),
  workOrdersOnTime: z.number().int(),
  slaCompliance: z.number().nullable(),
});
export type CommunityMetrics = z.infer<typeof CommunityMetrics>;

export const ScorecardRow = CommunityMetrics.extend({ score: z.number().nullable(), rank: z.number().int() });
export type ScorecardRow = z.infer<typeof ScorecardRow>;

export interface ScoreConfig {
  weights: { uptime: number; inBand: number; sla: number; response: number };
  /** Acknowledge and repair targets: meeting them scores 1, twice as slow 0.5, and so on. */
  targetAckMs: number;
  targetRepairMs: number;
}

export const DEFAULT_SCORE_CONFIG: ScoreConfig = {
  weights: { uptime: 0.3, inBand: 0.3, sla: 0.25, response: 0.15 },
  targetAckMs: 30 * 60_000,
  targetRepairMs: 24 * 3_600_000,
};

const ratio = (target: number, actual: number | null): number | null => (actual === null ? null : actual <= target ? 1 : target / actual);
const meanOf = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/**
 * The score (0–100):
 *   score = 100 × Σ wᵢ·sᵢ / Σ wᵢ   over the parts that could be measured
 *   s_uptime   = sensor uptime (0–1)
 *   s_inBand   = share of zone-hours inside the moisture band (0–1)
 *   s_sla      = work orders fixed by their SLA deadline / work orders due (0–1)
 *   s_response = mean of min(1, targetAck / MTTA) and min(1, targetRepair / MTTR)
 *   weights 0.30 / 0.30 / 0.25 / 0.15.
 * A part with nothing to measure (no zones, no faults) leaves the sum and the weights are
 * renormalised, so a community is neither punished nor rewarded for what it does not have.
 */
export function scoreCommunity(m: CommunityMetrics, config: ScoreConfig = DEFAULT_SCORE_CONFIG): number | null {
  const parts: Array<[number, number | null]> = [
    [config.weights.uptime, m.uptime],
    [config.weights.inBand, m.inBand],
    [config.weights.sla, m.slaCompliance],
    [config.weights.response, meanOf([ratio(config.targetAckMs, m.mttaMs), ratio(config.targetRepairMs, m.mttrMs)])],
  ];
  let sum = 0, weight = 0;
  for (const [w, s] of parts) if (s !== null) { sum += w * s; weight += w; }
  return weight === 0 ? null : Math.round((1000 * sum) / weight) / 10;
}

/** Score and rank (1 = best; equal scores share a rank; unscored communities rank last). */
export function rankCommunities(metrics: readonly CommunityMetrics[], config: ScoreConfig = DEFAULT_SCORE_CONFIG): ScorecardRow[] {
  const scored = metrics.map((m) => ({ ...m, score: scoreCommunity(m, config), rank: 0 }));
  scored.sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || a.communityId.localeCompare(b.communityId));
  scored.forEach((row, i) => {
    const prev = scored[i - 1];
    row.rank = prev && prev.score === row.score ? prev.rank : i + 1;
  });
  return scored;
}
