import * as common from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { on } from '../influxql.ts';
import { DEFAULT_BOARD_OPTIONS, SHOCK_IMPACT_G, type BoardOptions } from '../limits.ts';
import { board, cellColour, legendTable, finish, statPanel, steps, tablePanel, thresholdProps, timeSeries, TRANSFORMS } from '../panels.ts';
import { openAlertList, openAlerts, placeFilter, TIME, where } from '../queries.ts';
import { facilityTiltQuery, tiltOverrides } from './community.ts';
import { DASHBOARDS } from '../../contracts/dashboards.ts';

export const FACILITY_HEALTH_UID = DASHBOARDS.facilityHealth.uid;

const tilt = on('tilt');
const FACILITY_ALERTS = /^facility_/;
const tiltFilter = () => placeFilter(tilt, tilt.match('facility', 'facility'));

/**
 * Pavilions, trellis ropes, planter troughs, fitness equipment and benches: how far each
 * leans from its install baseline, knocks it took, and which are damaged now. A damaged
 * facility stays listed until its ledger entry is closed (the alert resolves then).
 */
export function facilityHealth(options: BoardOptions = DEFAULT_BOARD_OPTIONS): Dashboard {
  const tiltPanel = timeSeries('Tilt from baseline', 'degree', { query: facilityTiltQuery, alias: '$tag_facility ($tag_facility_type)' }).legend(legendTable()).min(0);
  tiltOverrides(tiltPanel, options.tiltLimits);
  const severity = steps(['green', null], ['red', 1]);
  return finish(
    board({
      uid: FACILITY_HEALTH_UID,
      title: 'Greenspace · Facility health',
      description: 'Tilt from baseline and shocks over time, and the facilities flagged as damaged now.',
      variables: ['district', 'community', 'facility'],
    })
      .withPanel(statPanel('Damaged facilities', 'none', { query: openAlerts([], { kinds: FACILITY_ALERTS, subject: 'facility', alias: 'damaged' }) }).thresholds(severity).noValue('0'))
      .withPanel(statPanel('Damaged, critical', 'none', { query: openAlerts([], { kinds: FACILITY_ALERTS, subject: 'facility', severity: 'critical', alias: 'critical' }) }).thresholds(severity).noValue('0'))
      .withPanel(statPanel('Largest tilt now', 'degree', {
        query: `SELECT max(t) FROM (SELECT last(${tilt.f('tilt')}) AS t FROM ${tilt.from} ${where(...tiltFilter(), TIME)} GROUP BY ${tilt.by('facility')})`,
      }).thresholds(steps(['green', null], ['orange', 2], ['red', 5])).span(12))
      .withPanel(
        tablePanel('Damaged now', { query: openAlertList({ kinds: FACILITY_ALERTS, subject: 'facility' }) })
          .height(8)
          .overrideByName('severity', cellColour(steps(['green', null])).concat([{ id: 'mappings', value: [{ type: 'value', options: { critical: { color: 'red', index: 0 }, warning: { color: 'orange', index: 1 }, info: { color: 'blue', index: 2 } } }] }]))
          .overrideByName('Time', [{ id: 'displayName', value: 'Since' }, { id: 'unit', value: 'dateTimeFromNow' }]),
      )
      .withPanel(tiltPanel)
      .withPanel((() => {
        const p = timeSeries('Shock', 'accG', {
          query: `SELECT max(${tilt.f('shock')}) FROM ${tilt.from} ${where(...tiltFilter(), TIME)} GROUP BY time($__interval), ${tilt.by('facility')} fill(none)`,
          alias: '$tag_facility',
        }).min(0);
        p.overrideByRegexp('.*', thresholdProps(steps(['green', null], ['red', SHOCK_IMPACT_G]), common.GraphThresholdsStyleMode.Dashed));
        return p;
      })())
      .withPanel(timeSeries('Change between consecutive readings', 'degree', {
        query: `SELECT max(${tilt.f('delta')}) FROM ${tilt.from} ${where(...tiltFilter(), TIME)} GROUP BY time($__interval), ${tilt.by('facility')} fill(none)`,
        alias: '$tag_facility',
      }).span(24))
      .withPanel(
        tablePanel('Latest reading per facility', {
          query: `SELECT last(${tilt.f('tilt')}) AS tilt, ${tilt.f('pitch')} AS pitch, ${tilt.f('roll')} AS roll, ${tilt.f('battery')} AS battery FROM ${tilt.from} ${where(...tiltFilter(), TIME)} GROUP BY ${tilt.by('community', 'facility', 'facility_type', 'device')}`,
        })
          .transformations([TRANSFORMS.merge])
          .overrideByName('Time', [{ id: 'displayName', value: 'Last seen' }, { id: 'unit', value: 'dateTimeFromNow' }])
          .overrideByName('tilt', [{ id: 'unit', value: 'degree' }, { id: 'decimals', value: 1 }]),
      )
      .build(),
  );
}
