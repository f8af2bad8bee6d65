import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as text from '@grafana/grafana-foundation-sdk/text';
import { SEVERITIES } from '../../contracts/alert.ts';
import { on } from '../influxql.ts';
import { bars, board, cellColour, finish, statPanel, steps, tablePanel, TRANSFORMS } from '../panels.ts';
import { onlinePercent, openAlertList, openAlerts, placeFilter, readingsInBand, soilReadings, TIME, where } from '../queries.ts';
import { DASHBOARDS } from '../../contracts/dashboards.ts';

export const OPERATIONS_UID = DASHBOARDS.operations.uid;

const alert = on('alert');
const PER_COMMUNITY = ['district', 'community'] as const;

const MISSING = [
  '**Not in InfluxDB, so not on this dashboard:** acknowledge and repair times, overdue work orders, SLA compliance and',
  'the full monthly scorecard live in the fault ledger (SQLite) and its API. The `alert` measurement has one point per',
  'transition with `state` and `message` only, and InfluxQL cannot pair a transition with the one before it, so a',
  'duration cannot be computed from it. Writing an `age_s` field (seconds since the alert first fired) on every',
  'transition would make mean time-to-acknowledge (`mean(age_s) WHERE state = \'acknowledged\'`) and time-to-repair',
  '(`WHERE state = \'resolved\'`) one query each. The scorecard below ranks what InfluxDB does hold: time within the',
  'moisture band and device uptime.',
].join(' ');

/** What the O&M company is assessed on: alerts by state and severity, open faults, and the parts of the scorecard InfluxDB holds. */
export function operations(): Dashboard {
  const severityColour = { critical: 'red', warning: 'orange', info: 'blue' } as const;
  const bySeverity = statPanel('Open alerts by severity', 'none', ...SEVERITIES.map((s) => ({ query: openAlerts([], { severity: s, alias: s }) })))
    .noValue('0').span(12).thresholds(steps(['green', null], ['red', 1]));
  for (const s of SEVERITIES) bySeverity.overrideByName(s, [{ id: 'color', value: { mode: 'fixed', fixedColor: severityColour[s] } }]);
  const byState = statPanel('Open alerts by state', 'none',
    { query: openAlerts([], { state: 'firing', alias: 'firing' }) },
    { query: openAlerts([], { state: 'acknowledged', alias: 'acknowledged' }) },
  ).noValue('0').span(12).thresholds(steps(['green', null], ['orange', 1], ['red', 10]));

  const transitions = (state: string) => ({
    query: `SELECT count(${alert.f('state')}) AS ${state} FROM ${alert.from} ${where(...placeFilter(alert), `${alert.f('state')} = '${state}'`, TIME)} GROUP BY time($__interval) fill(0)`,
  });

  return finish(
    board({
      uid: OPERATIONS_UID,
      title: 'Greenspace · Operations',
      description: 'Alerts by state and severity, the open faults, and a per-community scorecard of what InfluxDB holds.',
      variables: ['district', 'community'],
    })
      .withPanel(bySeverity)
      .withPanel(byState)
      .withPanel(bars('Alert transitions', 'short', transitions('firing'), transitions('acknowledged'), transitions('resolved')))
      .withPanel(bars('New alerts by severity', 'short', {
        query: `SELECT count(${alert.f('state')}) FROM ${alert.from} ${where(...placeFilter(alert), `${alert.f('state')} = 'firing'`, TIME)} GROUP BY time($__interval), ${alert.by('severity')} fill(0)`,
        alias: '$tag_severity',
      }))
      .withPanel(
        tablePanel('Open alerts (each has a work order in the ledger)', { query: openAlertList() })
          .overrideByName('Time', [{ id: 'displayName', value: 'Last change' }, { id: 'unit', value: 'dateTimeFromNow' }]),
      )
      .withPanel(
        tablePanel('Scorecard (InfluxDB part): time within moisture band, uptime, open alerts',
          { query: readingsInBand([...PER_COMMUNITY]) },
          { query: soilReadings([...PER_COMMUNITY]) },
          { query: onlinePercent([...PER_COMMUNITY]) },
          { query: openAlerts([...PER_COMMUNITY]) },
        )
          .transformations([
            TRANSFORMS.merge,
            { id: 'calculateField', options: { mode: 'binary', binary: { left: 'in_band', operator: '/', right: 'readings' }, alias: 'within_band', replaceFields: false } },
            { id: 'organize', options: { excludeByName: { Time: true, in_band: true, readings: true } } },
            { id: 'sortBy', options: { sort: [{ field: 'within_band', desc: true }] } },
          ])
          .overrideByName('within_band', [...cellColour(steps(['red', null], ['orange', 0.7], ['green', 0.9])), { id: 'unit', value: 'percentunit' }, { id: 'displayName', value: 'Time within band' }])
          .overrideByName('online_pct', [...cellColour(steps(['red', null], ['orange', 80], ['green', 95])), { id: 'unit', value: 'percent' }, { id: 'displayName', value: 'Device uptime' }])
          .overrideByName('open_alerts', [{ id: 'displayName', value: 'Open alerts' }, { id: 'noValue', value: '0' }]),
      )
      .withPanel(new text.PanelBuilder().title('What is missing here').span(24).height(5).mode(text.TextMode.Markdown).content(MISSING))
      .build(),
  );
}
