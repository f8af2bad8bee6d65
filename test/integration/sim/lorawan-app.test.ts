import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, countPoints, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { createLogger } from '../../../lib/logger.ts';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { registerFleet } from '../../../firmware-sim/fleet/provision.ts';
import { applicationName } from '../../../firmware-sim/lorawan/envelopes.ts';
import { startSimulation, type Simulation } from '../../../firmware-sim/simulation.ts';
import { backfillStart } from '../../../firmware-sim/sim-clock.ts';

const fleet = FleetSpec.parse({
  intervals: { soilS: 60 },
  communities: [{ id: 'c1', district: 'd1', zones: [{ id: 'z1', soilSensors: 3 }] }],
});
const devices = listDevices(fleet);
const net = { application: '3f6a1c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f', tenant: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242' };

describe('the simulator as a ChirpStack network server in front of the app', () => {
  let t: TestApp;
  let sim: Simulation | undefined;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await sim?.stop();
    await t?.stop();
  });

  it('registers its devices bound to its application, and their uplinks are stored', async () => {
    const application = applicationName('chirpstack', net);
    const reg = await registerFleet({ apiUrl: `http://127.0.0.1:${t.app.httpPort}`, token: ADMIN_TOKEN, devices, lorawanApplication: application });
    expect(reg.failures).toEqual([]);
    for (const d of devices) {
      const view = (await t.app.api.inject({ url: `/api/v1/devices/${d.id}`, headers: auth })).json() as { lorawanApplication?: string };
      expect(view.lorawanApplication).toBe(application);
    }
    const account = await t.app.api.inject({ method: 'POST', url: '/api/v1/service-accounts', headers: auth, payload: { id: 'cs-sim', kind: 'chirpstack', applications: [application] } });
    expect(account.statusCode).toBe(201);
    const accel = 600;
    sim = await startSimulation({
      fleet,
      transport: { mode: 'lorawan', format: 'chirpstack', net, codec: 'native', username: 'cs-sim', password: (account.json() as { secret: string }).secret },
      brokerUrl: `mqtt://127.0.0.1:${t.app.mqttPort}`,
      accel,
      startMs: backfillStart(Date.now(), 3_600_000, accel),
      seed: 5,
      logger: createLogger('silent'),
    });
    // Every device's uplinks reach InfluxDB: the binding believes the simulator's application.
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) >= 2 * devices.length ? true : undefined), 10_000, 'two readings per device');
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).not.toMatch(/gs_readings_rejected_total\{reason="wrong_application"\} [1-9]/);
  });
});
