import { DashboardLinkBuilder, DashboardLinkType, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as text from '@grafana/grafana-foundation-sdk/text';
import { board, cellColour, finish, statPanel, steps, tablePanel, TRANSFORMS } from '../panels.ts';
import { dryZones, onlinePercent, openAlerts } from '../queries.ts';
import { DASHBOARDS } from '../../contracts/dashboards.ts';

export const CITY_OVERVIEW_UID = DASHBOARDS.cityOverview.uid;
export const COMMUNITY_UID = DASHBOARDS.community.uid;

const FACILITY_ALERTS = /^facility_/;
const PER_COMMUNITY = ['district', 'community'] as const;

const dryColours = () => steps(['green', null], ['orange', 1], ['red', 3]);
const damagedColours = () => steps(['green', null], ['red', 1]);
const onlineColours = () => steps(['red', null], ['orange', 80], ['green', 95]);
const alertColours = () => steps(['green', null], ['orange', 1], ['red', 5]);

/**
 * The morning view of the whole city: one row per community with what needs a crew.
 * Work orders live in the SQLite ledger, not InfluxDB, so "open alerts" (every open
 * alert opens one work order) stands in for open work orders here.
 */
export function cityOverview(): Dashboard {
  const communityLink = new DashboardLinkBuilder('Open the community dashboard')
    .type(DashboardLinkType.Link)
    .url(`/d/${COMMUNITY_UID}/community?var-district=\${__data.fields.district}&var-community=\${__value.raw}&\${__url_time_range}`)
    .icon('dashboard').tooltip('').tags([]).asDropdown(false).includeVars(false).keepTime(false).targetBlank(false);

  return finish(
    board({
      uid: CITY_OVERVIEW_UID,
      title: 'Greenspace · City overview',
      description: 'Per community: dry zones, damaged facilities, devices online and open alerts (the work-order proxy).',
      variables: ['district', 'community'],
    })
      .withPanel(statPanel('Dry zones', 'none', { query: dryZones([]) }).thresholds(dryColours()).noValue('0'))
      .withPanel(statPanel('Damaged facilities', 'none', { query: openAlerts([], { kinds: FACILITY_ALERTS, alias: 'damaged' }) }).thresholds(damagedColours()).noValue('0'))
      .withPanel(statPanel('Devices online', 'percent', { query: onlinePercent([]) }).thresholds(onlineColours()).min(0).max(100))
      .withPanel(statPanel('Open alerts (work orders)', 'none', { query: openAlerts([]) }).thresholds(alertColours()).noValue('0'))
      .withPanel(
        tablePanel(
          'Communities',
          { query: dryZones([...PER_COMMUNITY]) },
          { query: openAlerts([...PER_COMMUNITY], { kinds: FACILITY_ALERTS, alias: 'damaged' }) },
          { query: onlinePercent([...PER_COMMUNITY]) },
          { query: openAlerts([...PER_COMMUNITY]) },
        )
          .height(14)
          .transformations([TRANSFORMS.merge, TRANSFORMS.hideTime])
          .overrideByName('community', [{ id: 'links', value: [communityLink.build()] }])
          .overrideByName('dry_zones', [...cellColour(dryColours()), { id: 'displayName', value: 'Dry zones' }, { id: 'noValue', value: '0' }])
          .overrideByName('damaged', [...cellColour(damagedColours()), { id: 'displayName', value: 'Damaged facilities' }, { id: 'noValue', value: '0' }])
          .overrideByName('online_pct', [...cellColour(onlineColours()), { id: 'displayName', value: 'Devices online' }, { id: 'unit', value: 'percent' }, { id: 'decimals', value: 0 }])
          .overrideByName('open_alerts', [...cellColour(alertColours()), { id: 'displayName', value: 'Open alerts (work orders)' }, { id: 'noValue', value: '0' }]),
      )
      .withPanel(
        new text.PanelBuilder().title('About these numbers').span(24).height(4).mode(text.TextMode.Markdown).content([
          'A **dry zone** is a zone whose median latest moisture is below the low end of its plant type\'s band (per-zone overrides are in the registry, not InfluxDB).',
          '**Damaged facilities** are facilities with an open `facility_*` alert. **Open alerts** stand in for open work orders: the ledger is in SQLite',
          '(each open alert opens one work order); use the API for the work orders themselves. Click a community to open its dashboard.',
        ].join(' ')),
      )
      .build(),
  );
}
