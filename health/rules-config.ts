import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseBoundedConfig } from '../lib/bounded-yaml.ts';
import { FACILITY_TYPES, type FacilityType } from '../contracts/device.ts';
import type { Severity } from '../contracts/alert.ts';
import { ConfigError } from '../config/config.ts';
import { DEFAULT_FACILITY_CONFIG, type FacilityRuleConfig, type FacilityThresholds } from '../rules/facility-health/thresholds.ts';
import { DEFAULT_DEVICE_HEALTH_CONFIG, type DeviceHealthConfig } from '../rules/device-health/config.ts';
import { DEFAULT_SLA_MS } from '../alerts/work-orders/sla.ts';

/**
 * The deployment's own rule settings, from the file GS_RULES_CONFIG names (YAML or JSON),
 * every key optional: what is left out keeps the code default (and the reason written next
 * to it in rules/facility-health/thresholds.ts, rules/device-health/config.ts and
 * alerts/work-orders/sla.ts). A facility's own thresholds in the inventory go over these.
 * Same shape of errors as GS_NOTIFY_CONFIG: `file: path: problem`.
 */
const angle = z.number().positive().max(90);
const TypeThresholds = z.strictObject({
  warningDeg: angle.optional(),
  criticalDeg: angle.optional(),
  hysteresisDeg: z.number().min(0).max(90).optional(),
  impactDeltaDeg: angle.optional(),
  // The device-health rules call a shock over 200 g implausible (rules/device-health/config.ts).
  shockG: z.number().positive().max(200).optional(),
  settlementDegPerDay: z.number().positive().max(90).optional(),
});
const byTypeShape = Object.fromEntries(FACILITY_TYPES.map((t) => [t, TypeThresholds.optional()])) as Record<FacilityType, z.ZodOptional<typeof TypeThresholds>>;
const ByType = z.strictObject(byTypeShape, {
  error: (issue) => (issue.code === 'unrecognized_keys'
    ? `unknown facility type ${issue.keys.map((k) => `"${k}"`).join(', ')}; expected one of ${FACILITY_TYPES.join(', ')}`
    : undefined),
});

const pct = z.number().min(0).max(100);
/** At least a minute (a deadline shorter than a notification's delivery is a typo), at most a year. */
const slaSeconds = z.number().int().min(60).max(365 * 86_400);

export const RulesConfigFile = z.strictObject({
  facilityHealth: z.strictObject({
    /** Per facility type, any of its six thresholds; the rest keep their defaults. */
    byType: ByType.default({}),
    /** Readings, and report intervals they must span, before a tilt level fires or clears. */
    debounceReadings: z.number().int().min(1).max(1_000).optional(),
    debounceIntervals: z.number().min(0).max(1_000).optional(),
  }).default({ byType: {} }),
  deviceHealth: z.strictObject({
    offlineAfterIntervals: z.number().int().min(1).max(1_000).optional(),
    batteryWarnPct: pct.optional(),
    batteryCriticalPct: pct.optional(),
    batteryClearPct: pct.optional(),
    stuckReadings: z.number().int().min(2).max(10_000).optional(),
    stuckMinSpanS: z.number().int().min(0).max(30 * 86_400).optional(),
    skewToleranceS: z.number().int().min(1).max(86_400).optional(),
  }).default({}),
  /** Seconds from a work order's opening to the technician's recorded fix, per severity. */
  workOrderSlaS: z.strictObject({ critical: slaSeconds.optional(), warning: slaSeconds.optional(), info: slaSeconds.optional() }).default({}),
});
export type RulesConfigFile = z.infer<typeof RulesConfigFile>;

/** The settings the health monitor and the alert service take. */
export interface RulesConfig {
  facilityHealth: FacilityRuleConfig;
  deviceHealth: DeviceHealthConfig;
  workOrderSlaMs: Record<Severity, number>;
}

export const DEFAULT_RULES_CONFIG: RulesConfig = { facilityHealth: DEFAULT_FACILITY_CONFIG, deviceHealth: DEFAULT_DEVICE_HEALTH_CONFIG, workOrderSlaMs: DEFAULT_SLA_MS };

/** `6` when the file set it, `5, the default` when it did not: the reader sees which value to change. */
const shown = (value: number, given: boolean): string => (given ? String(value) : `${value}, the default`);

/**
 * Merge the file over the defaults, and find what no single key's schema can see: a
 * warning angle at or past its critical one (possibly the default's), and the like.
 */
export function resolveRulesConfig(file: RulesConfigFile): { config: RulesConfig; problems: string[] } {
  const problems: string[] = [];
  const f = file.facilityHealth;
  const byType = Object.fromEntries(FACILITY_TYPES.map((type) => {
    const given = f.byType[type] ?? {};
    const t: FacilityThresholds = { ...DEFAULT_FACILITY_CONFIG.byType[type], ...given };
    const where = `facilityHealth.byType.${type}`;
    if (t.warningDeg >= t.criticalDeg) {
      problems.push(`${where}: warningDeg (${shown(t.warningDeg, given.warningDeg !== undefined)}) must be below criticalDeg (${shown(t.criticalDeg, given.criticalDeg !== undefined)})`);
    }
    if (t.hysteresisDeg >= t.warningDeg) {
      problems.push(`${where}: hysteresisDeg (${shown(t.hysteresisDeg, given.hysteresisDeg !== undefined)}) must be below warningDeg (${shown(t.warningDeg, given.warningDeg !== undefined)}): a warning would never clear`);
    }
    return [type, t];
  })) as Record<FacilityType, FacilityThresholds>;
  const facilityHealth: FacilityRuleConfig = {
    ...DEFAULT_FACILITY_CONFIG,
    byType,
    ...(f.debounceReadings === undefined ? {} : { debounceReadings: f.debounceReadings }),
    ...(f.debounceIntervals === undefined ? {} : { debounceIntervals: f.debounceIntervals }),
  };

  const d = file.deviceHealth;
  const dh = DEFAULT_DEVICE_HEALTH_CONFIG;
  const deviceHealth: DeviceHealthConfig = {
    ...dh,
    offlineAfterIntervals: d.offlineAfterIntervals ?? dh.offlineAfterIntervals,
    batteryWarnPct: d.batteryWarnPct ?? dh.batteryWarnPct,
    batteryCriticalPct: d.batteryCriticalPct ?? dh.batteryCriticalPct,
    batteryClearPct: d.batteryClearPct ?? dh.batteryClearPct,
    stuckReadings: d.stuckReadings ?? dh.stuckReadings,
    stuckMinSpanMs: d.stuckMinSpanS === undefined ? dh.stuckMinSpanMs : d.stuckMinSpanS * 1000,
    skewToleranceMs: d.skewToleranceS === undefined ? dh.skewToleranceMs : d.skewToleranceS * 1000,
  };
  if (!(deviceHealth.batteryCriticalPct < deviceHealth.batteryWarnPct && deviceHealth.batteryWarnPct < deviceHealth.batteryClearPct)) {
    problems.push(`deviceHealth: expected batteryCriticalPct (${shown(deviceHealth.batteryCriticalPct, d.batteryCriticalPct !== undefined)}) < batteryWarnPct `
      + `(${shown(deviceHealth.batteryWarnPct, d.batteryWarnPct !== undefined)}) < batteryClearPct (${shown(deviceHealth.batteryClearPct, d.batteryClearPct !== undefined)})`);
  }

  const s = file.workOrderSlaS;
  const slaS = (severity: Severity): number => s[severity] ?? DEFAULT_SLA_MS[severity] / 1000;
  const workOrderSlaMs: Record<Severity, number> = { critical: slaS('critical') * 1000, warning: slaS('warning') * 1000, info: slaS('info') * 1000 };
  // Raising an alert's severity moves its work order's deadline to the earlier of the two
  // (alert-service.ts): a critical fault with a longer SLA than a warning is a typo.
  if (!(slaS('critical') <= slaS('warning') && slaS('warning') <= slaS('info'))) {
    problems.push(`workOrderSlaS: expected critical (${shown(slaS('critical'), s.critical !== undefined)}) ≤ warning (${shown(slaS('warning'), s.warning !== undefined)}) `
      + `≤ info (${shown(slaS('info'), s.info !== undefined)}) seconds: a more severe fault gets the shorter deadline`);
  }
  return { config: { facilityHealth, deviceHealth, workOrderSlaMs }, problems };
}

/** Read GS_RULES_CONFIG if set; the defaults otherwise. Throws a ConfigError naming every bad value. */
export function loadRulesConfig(env: NodeJS.ProcessEnv, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): RulesConfig {
  const file = env.GS_RULES_CONFIG;
  if (!file) return DEFAULT_RULES_CONFIG;
  let raw: unknown;
  try {
    raw = parseBoundedConfig(readFile(file), file) ?? {}; // size, nesting and aliases bounded (lib/bounded-yaml.ts)
  } catch (error) {
    throw new ConfigError([`GS_RULES_CONFIG=${file}: cannot read or parse the file (${(error as Error).message.split('\n')[0]})`]);
  }
  const parsed = RulesConfigFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`));
  const { config, problems } = resolveRulesConfig(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`));
  return config;
}
