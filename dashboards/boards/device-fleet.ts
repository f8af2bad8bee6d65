import { MappingType, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { REJECT_REASONS } from '../../contracts/rejects.ts';
import { on } from '../influxql.ts';
import { BATTERY_LOW_PCT, RSSI_WEAK_DBM } from '../limits.ts';
import { board, cellColour, legendTable, finish, statPanel, steps, tablePanel, timeSeries, TRANSFORMS } from '../panels.ts';
import { offlineDevices, onlinePercent, placeFilter, TIME, where } from '../queries.ts';
import { DASHBOARDS } from '../../contracts/dashboards.ts';

export const DEVICE_FLEET_UID = DASHBOARDS.deviceFleet.uid;

/** Every device that reports readings: they share battery, rssi and snr. */
const readings = on('soil', 'tilt', 'valve', 'rain');
const status = on('device_status');
const stats = on('ingest_stats');

const batteryColours = () => steps(['red', null], ['orange', BATTERY_LOW_PCT], ['green', BATTERY_LOW_PCT * 2]);
const signalColours = () => steps(['red', null], ['orange', RSSI_WEAK_DBM], ['green', RSSI_WEAK_DBM + 20]);

/**
 * The installed base: which devices report, their batteries and radio, and what the
 * ingest refused. Refusals are counted per reason by the ingest for the whole process
 * (`ingest_stats`), not per community; per-device refusals are in the dead-letter store.
 */
export function deviceFleet(): Dashboard {
  return finish(
    board({
      uid: DEVICE_FLEET_UID,
      title: 'Greenspace · Device fleet',
      description: 'Last seen, battery and signal of every device, offline devices, and rejected messages by reason.',
      variables: ['district', 'community'],
    })
      .withPanel(statPanel('Devices online', 'percent', { query: onlinePercent([]) }).thresholds(steps(['red', null], ['orange', 80], ['green', 95])).min(0).max(100).span(8))
      .withPanel(statPanel('Devices offline', 'none', { query: offlineDevices([]) }).thresholds(steps(['green', null], ['orange', 1], ['red', 5])).noValue('0').span(8))
      .withPanel(statPanel('Lowest battery', 'percent', {
        query: `SELECT min(b) FROM (SELECT last(${readings.f('battery')}) AS b FROM ${readings.from} ${where(...placeFilter(readings), TIME)} GROUP BY ${readings.by('device')})`,
      }).thresholds(batteryColours()).span(8))
      .withPanel(
        tablePanel('Devices: last reading', {
          query: `SELECT last(${readings.f('battery')}) AS battery, ${readings.f('rssi')} AS rssi, ${readings.f('snr')} AS snr FROM ${readings.from} ${where(...placeFilter(readings), TIME)} GROUP BY ${readings.by('district', 'community', 'device')}`,
        })
          .height(12)
          .transformations([TRANSFORMS.merge])
          .overrideByName('Time', [{ id: 'displayName', value: 'Last seen' }, { id: 'unit', value: 'dateTimeFromNow' }])
          .overrideByName('battery', [...cellColour(batteryColours()), { id: 'unit', value: 'percent' }, { id: 'decimals', value: 0 }])
          .overrideByName('rssi', [...cellColour(signalColours()), { id: 'unit', value: 'dBm' }, { id: 'decimals', value: 0 }]),
      )
      .withPanel(
        tablePanel('Device status (health sweep)', {
          query: `SELECT last(${status.f('online')}) AS online, ${status.f('battery')} AS battery, ${status.f('last_seen_s')} AS silent_for FROM ${status.from} ${where(...placeFilter(status), TIME)} GROUP BY ${status.by('district', 'community', 'device', 'kind')}`,
        })
          .transformations([TRANSFORMS.merge, TRANSFORMS.hideTime])
          .overrideByName('online', [...cellColour(steps(['red', null], ['green', 1])),
            { id: 'mappings', value: [{ type: MappingType.ValueToText, options: { '0': { text: 'offline' }, '1': { text: 'online' } } }] }])
          .overrideByName('silent_for', [{ id: 'unit', value: 's' }, { id: 'displayName', value: 'Silent for' }]),
      )
      .withPanel(timeSeries('Lowest battery per community', 'percent', {
        query: `SELECT min(${readings.f('battery')}) FROM ${readings.from} ${where(...placeFilter(readings), TIME)} GROUP BY time($__interval), ${readings.by('community')} fill(none)`,
        alias: '$tag_community $m',
      }).min(0).max(100).legend(legendTable()))
      .withPanel(timeSeries('Mean signal (RSSI) per community', 'dBm', {
        query: `SELECT mean(${readings.f('rssi')}) FROM ${readings.from} ${where(...placeFilter(readings), TIME)} GROUP BY time($__interval), ${readings.by('community')} fill(none)`,
        alias: '$tag_community $m',
      }).legend(legendTable()))
      .withPanel(timeSeries('Rejected messages by reason (whole ingest)', 'short', {
        query: `SELECT ${REJECT_REASONS.map((r) => `sum(${stats.f(`rejected_${r}`)}) AS ${r}`).join(', ')} FROM ${stats.from} ${where(TIME)} GROUP BY time($__interval) fill(0)`,
      }).span(24).legend(legendTable()))
      .build(),
  );
}
