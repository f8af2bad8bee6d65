import { PLANT_TYPES } from '../contracts/device.ts';
import { on, type CommonTag } from './influxql.ts';
import { MOISTURE_BANDS } from './limits.ts';

/**
 * Queries several dashboards share. Each takes the GROUP BY tags it should break down
 * by (none for a single stat, district+community for a per-community table).
 */

export const TIME = '$timeFilter';
export const where = (...conditions: string[]): string => `WHERE ${conditions.join(' AND ')}`;
const groupBy = (tags: string): string => (tags ? ` GROUP BY ${tags}` : '');

/**
 * The district/community filter every place-scoped query starts with (only measurements
 * tagged with both are accepted), plus any further conditions.
 */
export function placeFilter(m: { match: (tag: 'district' | 'community', variable: string) => string }, ...extra: string[]): string[] {
  return [m.match('district', 'district'), m.match('community', 'community'), ...extra];
}

const soil = on('soil');
const alert = on('alert');
const status = on('device_status');

type SoilTag = CommonTag<'soil'>;
type AlertTag = CommonTag<'alert'>;

/**
 * Zones whose moisture is below the low end of their plant type's band. Zone moisture is
 * the median of each sensor's latest reading, as the irrigation rules aggregate it; soil
 * without a plant tag is held to the default band.
 */
export function dryZones(by: SoilTag[]): string {
  const below = [...PLANT_TYPES.map((p) => `(${soil.is('plant', p)} AND m < ${MOISTURE_BANDS[p].low})`), `(${soil.is('plant', '')} AND m < ${MOISTURE_BANDS.default.low})`];
  const keys: SoilTag[] = ['district', 'community', 'zone', 'plant'];
  const latest = `SELECT last(${soil.f('moisture')}) AS m FROM ${soil.from} ${where(...placeFilter(soil), TIME)} GROUP BY ${soil.by(...keys, 'device')}`;
  const zones = `SELECT median(m) AS m FROM (${latest}) GROUP BY ${soil.by(...keys)}`;
  return `SELECT count(m) AS dry_zones FROM (${zones}) WHERE ${below.join(' OR ')}${groupBy(soil.by(...by))}`;
}

/**
 * Alerts whose latest transition is not `resolved`, counted. Alerts are written one point
 * per transition, so "open" is a property of the last point of each (kind, subject); the
 * severity is the last point's too. No time filter: an alert fired last month and still
 * open is open today.
 */
export function openAlerts(by: AlertTag[], options: { kinds?: RegExp; severity?: string; state?: string; subject?: string; alias?: string } = {}): string {
  const conditions = placeFilter(alert, ...(options.subject ? [alert.match('subject', options.subject)] : []));
  if (options.kinds) conditions.push(`${alert.t('kind')} =~ ${options.kinds.toString()}`);
  const latest = `SELECT last(${alert.f('state')}) AS s, ${alert.t('severity')} AS sev FROM ${alert.from} ${where(...conditions)} GROUP BY ${alert.by('district', 'community', 'kind', 'subject')}`;
  const outer = [options.state ? `s = '${options.state}'` : `s != 'resolved'`, ...(options.severity ? [`sev = '${options.severity}'`] : [])];
  return `SELECT count(s) AS ${options.alias ?? 'open_alerts'} FROM (${latest}) WHERE ${outer.join(' AND ')}${groupBy(alert.by(...by))}`;
}

/** The open alerts themselves: state, severity, message, and when they last changed. */
export function openAlertList(options: { kinds?: RegExp; subject?: string } = {}): string {
  const conditions = placeFilter(alert, ...(options.subject ? [alert.match('subject', options.subject)] : []));
  if (options.kinds) conditions.push(`${alert.t('kind')} =~ ${options.kinds.toString()}`);
  const keys = alert.by('district', 'community', 'kind', 'subject');
  const latest = `SELECT last(${alert.f('state')}) AS state, ${alert.t('severity')} AS severity, ${alert.f('message')} AS message FROM ${alert.from} ${where(...conditions)} GROUP BY ${keys}`;
  return `SELECT state, severity, message FROM (${latest}) WHERE state != 'resolved' GROUP BY ${keys}`;
}

/** Share of devices whose latest status says online, in percent. */
export function onlinePercent(by: Array<CommonTag<'device_status'>>): string {
  const latest = `SELECT last(${status.f('online')}) AS o FROM ${status.from} ${where(...placeFilter(status), TIME)} GROUP BY ${status.by('district', 'community', 'device')}`;
  return `SELECT mean(o) * 100 AS online_pct FROM (${latest})${groupBy(status.by(...by))}`;
}

/** Devices whose latest status says offline. */
export function offlineDevices(by: Array<CommonTag<'device_status'>>): string {
  const latest = `SELECT last(${status.f('online')}) AS o FROM ${status.from} ${where(...placeFilter(status), TIME)} GROUP BY ${status.by('district', 'community', 'device')}`;
  return `SELECT count(o) AS offline FROM (${latest}) WHERE o = 0${groupBy(status.by(...by))}`;
}

/** Soil readings inside their plant's band (numerator of time-within-band). */
export function readingsInBand(by: SoilTag[]): string {
  const inBand = [...PLANT_TYPES.map((p) => [soil.is('plant', p), MOISTURE_BANDS[p]] as const), [soil.is('plant', ''), MOISTURE_BANDS.default] as const]
    .map(([plant, band]) => `(${plant} AND ${soil.f('moisture')} >= ${band.low} AND ${soil.f('moisture')} <= ${band.high})`);
  return `SELECT count(${soil.f('moisture')}) AS in_band FROM ${soil.from} ${where(...placeFilter(soil), TIME, `(${inBand.join(' OR ')})`)}${groupBy(soil.by(...by))}`;
}

export function soilReadings(by: SoilTag[]): string {
  return `SELECT count(${soil.f('moisture')}) AS readings FROM ${soil.from} ${where(...placeFilter(soil), TIME)}${groupBy(soil.by(...by))}`;
}
