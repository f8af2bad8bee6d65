import { ADMIN_TOKEN, eventually, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import type { AlertKind } from '../../../contracts/alert.ts';
import type { WorkOrderAction } from '../../../alerts/work-orders/machine.ts';

/**
 * A city of two districts, `north` and `south`, each with the same things in it: a
 * community, a watered zone and a hand-watered one, a pavilion with its tilt sensor, soil
 * probes, alerts with work orders, notifications, silences and dead letters. Every id,
 * subject and message in south contains "south" (and in north "north"), so a listing
 * can be checked for a leak by its text alone.
 */
export const DISTRICTS = ['north', 'south'] as const;
/** A watered zone per caller that may start watering (a zone already watering refuses a second start). */
export const WATERING_CALLERS = ['admin', 'operator', 'operator-north'] as const;
export type District = (typeof DISTRICTS)[number];

export function twoDistrictInventory(): Record<string, unknown> {
  const district = (d: District, eui: string) => ({
    id: d,
    name: `${d} district`,
    subDistricts: [{
      id: `${d}-sub`,
      name: `${d} sub-district`,
      communities: [{
        id: `${d}-c1`,
        name: `${d} community`,
        zones: [
          { id: `${d}-z1`, name: `${d} lawn`, plant: 'lawn', mode: 'automatic', soil: 'loam', valve: `${d}-valve` },
          { id: `${d}-z2`, name: `${d} hedge`, plant: 'hedge', mode: 'manual' },
          ...WATERING_CALLERS.map((c) => ({ id: `${d}-w-${c}`, name: `${d} bed for ${c}`, plant: 'lawn', mode: 'automatic', soil: 'loam', valve: `${d}-w-${c}-valve` })),
        ],
        facilities: [{ id: `${d}-pav`, name: `${d} pavilion`, type: 'pavilion' }],
        devices: [
          { id: `${d}-soil`, kind: 'soil', zone: `${d}-z1` },
          { id: `${d}-spare`, kind: 'soil', zone: `${d}-z1` },
          { id: `${d}-mover`, kind: 'soil', zone: `${d}-z1` },
          { id: `${d}-eui`, kind: 'soil', devEui: eui, zone: `${d}-z2` },
          { id: `${d}-valve`, kind: 'valve', zone: `${d}-z1` },
          { id: `${d}-tilt`, kind: 'tilt', facility: `${d}-pav` },
          ...WATERING_CALLERS.map((c) => ({ id: `${d}-w-${c}-valve`, kind: 'valve', zone: `${d}-w-${c}` })),
        ],
      }],
    }],
  });
  return { version: 1, districts: [district('north', 'a840410000000101'), district('south', 'a840410000000201')] };
}

export interface Seeder {
  /** A fresh firing alert in the district (its work order opened with it). */
  alert(d: District, kind?: AlertKind): Promise<number>;
  /** A fresh work order in the district, walked to `state` (resolved by `tech-fixture`). */
  workOrder(d: District, state: 'open' | 'assigned' | 'accepted' | 'resolved'): Promise<number>;
  /** A fresh notification about an alert of the district, given up on (so it can be retried). */
  notification(d: District): Promise<number>;
  /** A fresh silence of the district's community. */
  silence(d: District): Promise<number>;
}

/** Import the city and seed what only the running system makes (dead letters over MQTT). */
export async function seedTwoDistricts(t: TestApp): Promise<Seeder> {
  const imported = await t.app.api.inject({ method: 'PUT', url: '/api/v1/inventory', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: twoDistrictInventory() });
  if (imported.statusCode !== 200) throw new Error(`inventory import failed: ${imported.statusCode} ${imported.body}`);
  const secrets = new Map((imported.json() as { credentials: Array<{ deviceId: string; secret: string }> }).credentials.map((c) => [c.deviceId, c.secret]));

  // A garbled uplink from each district's probe: a dead letter that belongs to its district.
  for (const d of DISTRICTS) {
    const id = `${d}-soil`;
    const client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) });
    await publish(client, `gs/${id}/up`, `{"garbled ${d}`, 1);
    client.end(true);
  }
  await eventually(async () => {
    const res = await t.app.api.inject({ url: '/api/v1/dead-letters', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const devices = (res.json() as Array<{ device: string | null }>).map((l) => l.device);
    return devices.includes('north-soil') && devices.includes('south-soil') ? true : undefined;
  }, 5_000, 'a dead letter from each district');

  const health = t.app.health;
  const notifications = t.app.notifications;
  let n = 0;
  const seeder: Seeder = {
    async alert(d, kind = 'battery_low') {
      const record = await health.alerts.apply({
        action: 'raise', kind, subject: `${d}-subject-${++n}`, severity: 'warning', message: `${kind} in ${d}`,
        communityId: `${d}-c1`, districtId: d, at: Date.now(),
      });
      if (!record) throw new Error('no alert raised');
      return record.id;
    },
    async workOrder(d, state) {
      const alertId = await seeder.alert(d, 'sensor_stuck');
      const wo = await health.workOrders.forAlert(alertId);
      if (!wo) throw new Error('no work order opened');
      const steps: Array<[WorkOrderAction, string]> = [
        [{ action: 'assign', assignee: 'tech-fixture' }, 'op-fixture'],
        [{ action: 'accept' }, 'tech-fixture'],
        [{ action: 'resolve', note: `fixed in ${d}` }, 'tech-fixture'],
      ];
      const count = { open: 0, assigned: 1, accepted: 2, resolved: 3 }[state];
      for (const [action, by] of steps.slice(0, count)) await health.workOrders.act(wo.id, action, by);
      return wo.id;
    },
    async notification(d) {
      const alertId = await seeder.alert(d);
      const alert = (await health.alerts.get(alertId))!;
      const [id] = await notifications.outbox.enqueue([{
        teamId: `${d}-team`, audience: 'team', channel: { type: 'webhook', url: 'http://127.0.0.1:9/hooks' },
        payload: { message: { title: `alert in ${d}`, lines: [] }, alerts: [{ reason: 'firing', ackUrl: 'http://127.0.0.1:9/ack', alert: { ...alert, details: null } }] },
      }], Date.now() + 3_600_000); // not due for an hour: no delivery worker claims it before it is marked given up
      await notifications.outbox.markFailed(id!, 'fixture: given up');
      return id!;
    },
    async silence(d) {
      return (await notifications.silences.create({ communityId: `${d}-c1`, endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: `maintenance in ${d}` }, Date.now())).id;
    },
  };
  // One of each from the start, so every list has something of both districts to show or hide.
  for (const d of DISTRICTS) {
    seeder.workOrder(d, 'open');
    seeder.notification(d);
    seeder.silence(d);
  }
  return seeder;
}
