import { MEASUREMENTS, type FieldName, type TagName } from '../contracts/influx-schema.ts';
import { toLine } from '../influx/line-protocol.ts';
import type { ZoneConfig } from '../contracts/zone.ts';
import type { Decision } from '../rules/irrigation/state.ts';

const M = MEASUREMENTS.watering;

/**
 * One `watering` point per decision, so dashboards can annotate every start, stop and
 * skip with its reason. Runs carry duration and volume on their stop point.
 */
export function toWateringLine(decision: Decision, zone: Pick<ZoneConfig, 'districtId' | 'communityId'>): string {
  const tags: Record<TagName<'watering'>, string | undefined> = {
    district: zone.districtId,
    community: zone.communityId,
    zone: decision.zoneId,
    mode: decision.mode,
    reason: decision.reason,
    action: decision.action,
  };
  const fields: Record<FieldName<'watering'>, number | undefined> = {
    duration_s: decision.durationS ?? (decision.action === 'stop' ? 0 : undefined),
    volume_l: decision.volumeL,
    moisture: decision.inputs.moisture,
  };
  // A point needs a field: a skip without a counted sensor still records its (zero) duration.
  if (Object.values(fields).every((v) => v === undefined)) fields.duration_s = 0;
  return toLine(M.name, tags, fields, decision.at);
}
