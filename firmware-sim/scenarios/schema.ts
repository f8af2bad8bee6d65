import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { FacilityType } from '../../contracts/device.ts';

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/** A simulated duration: seconds as a number, or "7d", "1d6h", "90m", "30s". */
export const Duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  if (v.length === 0 || !/^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 7d, 1d6h, 90m or 30s, got "${v}"` });
    return z.NEVER;
  }
  return [...v.matchAll(/(\d+)([dhms])/g)].reduce((ms, [, n, u]) => ms + Number(n) * UNITS[u!]!, 0);
});

const share = z.number().min(0).max(1);

/** What happens when, relative to the start of the run (sim time). */
export const ScenarioEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('weather'), at: Duration, for: Duration, tempOffsetC: z.number().min(-30).max(30).optional(), rainMmH: z.number().min(0).max(200).optional() }),
  z.strictObject({
    type: z.literal('impact'),
    at: Duration,
    facilityTypes: z.array(FacilityType).min(1).optional(),
    share: share.default(1),
    tiltDeg: z.number().min(0).max(90),
    shockG: z.number().min(0).max(400),
  }),
  z.strictObject({ type: z.literal('outage'), at: Duration, for: Duration, communityShare: share.default(0.25) }),
  z.strictObject({ type: z.literal('broker_restart'), at: Duration }),
]);
export type ScenarioEvent = z.infer<typeof ScenarioEvent>;

export const Scenario = z.strictObject({
  description: z.string(),
  duration: Duration,
  /** Share of devices that misbehave during this scenario (the CLI flag overrides it). */
  misbehaviourShare: share.optional(),
  events: z.array(ScenarioEvent).default([]),
}).superRefine((s, ctx) => {
  s.events.forEach((e, i) => {
    if (e.at > s.duration) ctx.addIssue({ code: 'custom', path: ['events', i, 'at'], message: 'event starts after the scenario ends' });
  });
});
export type Scenario = z.infer<typeof Scenario>;

export const ScenarioFile = z.strictObject({ scenarios: z.record(z.string().regex(/^[a-z0-9-]+$/), Scenario) });
export type ScenarioFile = z.infer<typeof ScenarioFile>;

export const DEFAULT_SCENARIOS_PATH = new URL('./scenarios.yaml', import.meta.url);

/** Load and validate a scenarios file; every problem is named with its path. */
export function loadScenarios(path: string | URL = DEFAULT_SCENARIOS_PATH): ScenarioFile {
  const parsed = ScenarioFile.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid scenarios file ${String(path)}:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
