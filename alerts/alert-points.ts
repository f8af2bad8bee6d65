import type { AlertTransition } from '../contracts/alert.ts';
import { MEASUREMENTS } from '../contracts/influx-schema.ts';
import { toLine } from '../influx/line-protocol.ts';

/**
 * Turns transitions into `alert` points (one per transition, for Grafana annotations).
 * Two transitions of one alert in the same millisecond would share series and timestamp
 * and the second would overwrite the first, so times are made unique per series.
 */
export function createAlertPointBuilder() {
  const lastTs = new Map<string, number>();
  return (t: AlertTransition): string => {
    const a = t.alert;
    const tags = { district: a.districtId ?? undefined, community: a.communityId ?? undefined, kind: a.kind, severity: a.severity, subject: a.subject };
    const key = `${a.kind}\u0000${a.subject}\u0000${a.severity}\u0000${tags.community ?? ''}\u0000${tags.district ?? ''}`;
    const previous = lastTs.get(key);
    const ts = previous !== undefined && t.at <= previous ? previous + 1 : t.at;
    lastTs.set(key, ts);
    if (lastTs.size > 100_000) lastTs.delete(lastTs.keys().next().value!);
    const by = t.by ? ` (${t.by})` : '';
    const note = t.note && t.note !== a.message ? `: ${t.note}` : '';
    return toLine(MEASUREMENTS.alert.name, tags, { state: t.to, message: `${a.message}${by}${note}` }, ts);
  };
}
