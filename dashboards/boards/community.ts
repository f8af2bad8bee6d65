import * as common from '@grafana/grafana-foundation-sdk/common';
import { MappingType, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import { PLANT_TYPES, FACILITY_TYPES } from '../../contracts/device.ts';
import { on } from '../influxql.ts';
import { DEFAULT_BOARD_OPTIONS, MOISTURE_BANDS, TILT_LIMITS, type BoardOptions, type TiltLimits } from '../limits.ts';
import { annotation, bars, board, legendTable, finish, steps, thresholdProps, timeSeries, withQueries } from '../panels.ts';
import { placeFilter, TIME, where } from '../queries.ts';
import { COMMUNITY_UID } from './city-overview.ts';

const soil = on('soil');
const valve = on('valve');
const rain = on('rain');
const watering = on('watering');
const tilt = on('tilt');
const alert = on('alert');
const soilDaily = on('soil_1d');
const tiltDaily = on('tilt_1d');
/** The season panels' own range: two seasons back, whatever the dashboard's range (hours, usually). */
const SEASON = '180d';
const escapeRegex = (s: string): string => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

/** Draw each plant type's band on the series of zones with that plant (alias ends in "(plant)"). */
export function bandOverrides(panel: { overrideByRegexp(re: string, props: ReturnType<typeof thresholdProps>): unknown }): void {
  for (const plant of PLANT_TYPES) {
    const band = MOISTURE_BANDS[plant];
    panel.overrideByRegexp(`.*\\(${escapeRegex(plant)}\\)$`, thresholdProps(steps(['red', null], ['green', band.low], ['blue', band.high]), common.GraphThresholdsStyleMode.LineAndArea));
  }
}

/** Draw each facility type's warning/critical angles on its facilities' series. */
export function tiltOverrides(panel: { overrideByRegexp(re: string, props: ReturnType<typeof thresholdProps>): unknown }, limits: TiltLimits = TILT_LIMITS): void {
  for (const type of FACILITY_TYPES) {
    const limit = limits[type];
    panel.overrideByRegexp(`.*\\(${escapeRegex(type)}\\)$`, thresholdProps(steps(['green', null], ['orange', limit.warning], ['red', limit.critical]), common.GraphThresholdsStyleMode.Dashed));
  }
}

export const zoneMoistureQuery = `SELECT median(${soil.f('moisture')}) FROM ${soil.from} ${where(...placeFilter(soil, soil.match('zone', 'zone')), TIME)} GROUP BY time($__interval), ${soil.by('zone', 'plant')} fill(none)`;
/** Long range reads the daily rollups (rollups/): a point per device and day, not every raw reading of half a year. */
export const zoneMoistureSeasonQuery = `SELECT mean(${soilDaily.f('moisture_mean')}) FROM ${soilDaily.from} ${where(...placeFilter(soilDaily, soilDaily.match('zone', 'zone')), TIME)} GROUP BY time(1d), ${soilDaily.by('zone', 'plant')} fill(none)`;
export const facilityTiltSeasonQuery = `SELECT max(${tiltDaily.f('tilt_max')}) FROM ${tiltDaily.from} ${where(...placeFilter(tiltDaily, tiltDaily.match('facility', 'facility')), TIME)} GROUP BY time(1d), ${tiltDaily.by('facility', 'facility_type')} fill(none)`;
export const facilityTiltQuery = `SELECT max(${tilt.f('tilt')}) FROM ${tilt.from} ${where(...placeFilter(tilt, tilt.match('facility', 'facility')), TIME)} GROUP BY time($__interval), ${tilt.by('facility', 'facility_type')} fill(none)`;

/** One community: zones against their bands, what the watering loop did and why, rain, valves, facilities. */
export function community(options: BoardOptions = DEFAULT_BOARD_OPTIONS): Dashboard {
  const wateringColumns = `${watering.f('moisture')}, ${watering.f('duration_s')}, ${watering.f('volume_l')}, ${watering.t('reason')}, ${watering.t('action')}, ${watering.t('zone')}, ${watering.t('mode')}`;
  const wateringFilter = placeFilter(watering, watering.match('zone', 'zone'));
  const moisture = timeSeries('Zone moisture vs target band', 'percent', { query: zoneMoistureQuery, alias: '$tag_zone ($tag_plant)' })
    .legend(legendTable()).min(0).max(60).span(24).repeat('zone').maxPerRow(2);
  bandOverrides(moisture);
  const facilities = timeSeries('Facility tilt from baseline', 'degree', { query: facilityTiltQuery, alias: '$tag_facility ($tag_facility_type)' })
    .legend(legendTable()).min(0).repeat('facility').maxPerRow(3).span(24);
  tiltOverrides(facilities, options.tiltLimits);
  const moistureSeason = timeSeries('Zone moisture over the season (daily mean)', 'percent', { query: zoneMoistureSeasonQuery, alias: '$tag_zone ($tag_plant)' })
    .legend(legendTable()).min(0).max(60).span(12).timeFrom(SEASON).interval('1d');
  bandOverrides(moistureSeason);
  const tiltSeason = timeSeries('Facility tilt over the season (daily max)', 'degree', { query: facilityTiltSeasonQuery, alias: '$tag_facility ($tag_facility_type)' })
    .legend(legendTable()).min(0).span(12).timeFrom(SEASON).interval('1d');
  tiltOverrides(tiltSeason, options.tiltLimits);

  return finish(
    board({
      uid: COMMUNITY_UID,
      title: 'Greenspace · Community',
      description: 'Each zone against its moisture band with watering runs and skips (and why), rain, valves, and facility tilt against the warning/critical angles; the last 180 days from the daily rollups.',
      variables: ['district', 'community', 'zone', 'facility'],
    })
      .annotation(annotation('Watering runs', 'blue',
        `SELECT ${wateringColumns} FROM ${watering.from} ${where(...wateringFilter, `${watering.t('action')} =~ /^(start|stop)$/`, TIME)}`,
        { text: 'reason', tags: 'action,zone,mode' }))
      .annotation(annotation('Watering skipped', 'orange',
        `SELECT ${wateringColumns} FROM ${watering.from} ${where(...wateringFilter, watering.is('action', 'skip'), TIME)}`,
        { text: 'reason', tags: 'action,zone,mode' }))
      .annotation(annotation('Alerts', 'red',
        `SELECT ${alert.f('message')}, ${alert.f('state')}, ${alert.t('kind')}, ${alert.t('severity')}, ${alert.t('subject')} FROM ${alert.from} ${where(...placeFilter(alert), TIME)}`,
        { text: 'message', tags: 'state,kind,severity,subject' }))
      .withPanel(moisture)
      .withPanel(bars('Water applied per zone', 'litre', {
        query: `SELECT sum(${watering.f('volume_l')}) FROM ${watering.from} ${where(...wateringFilter, TIME)} GROUP BY time($__interval), ${watering.by('zone')} fill(none)`,
        alias: '$tag_zone',
      }).span(8))
      .withPanel(bars('Rain', 'lengthmm', {
        query: `SELECT sum(${rain.f('rainfall')}) FROM ${rain.from} ${where(...placeFilter(rain), TIME)} GROUP BY time($__interval), ${rain.by('community')} fill(0)`,
        alias: '$tag_community',
      }).span(8))
      .withPanel(
        withQueries(new statetimeline.PanelBuilder().title('Valve state').span(8).height(8), {
          query: `SELECT last(${valve.f('state')}) FROM ${valve.from} ${where(...placeFilter(valve, valve.match('zone', 'zone')), TIME)} GROUP BY time($__interval), ${valve.by('zone')} fill(previous)`,
          alias: '$tag_zone',
        }).mappings([{ type: MappingType.ValueToText, options: { '0': { text: 'closed', color: 'transparent' }, '1': { text: 'open', color: 'blue' } } }]),
      )
      .withPanel(timeSeries('Valve flow', 'flowlpm', {
        query: `SELECT mean(${valve.f('flow')}) FROM ${valve.from} ${where(...placeFilter(valve, valve.match('zone', 'zone')), TIME)} GROUP BY time($__interval), ${valve.by('zone')} fill(none)`,
        alias: '$tag_zone',
      }).span(24))
      .withPanel(facilities)
      .withPanel(moistureSeason)
      .withPanel(tiltSeason)
      .build(),
  );
}
