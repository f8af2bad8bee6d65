import { describe, expect, it } from 'vitest';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { handleValveCommand } from '../../../firmware-sim/firmware/valve-commands.ts';
import { DEFAULT_CLIMATE } from '../../../firmware-sim/physics/weather.ts';
import { createWorld } from '../../../firmware-sim/world.ts';
import { createRandom } from '../../../lib/random.ts';

const START = Date.UTC(2026, 6, 14, 22);
const fleet = FleetSpec.parse({ communities: [{ id: 'c1', district: 'd1', zones: [{ id: 'z1', soilSensors: 1, mode: 'automatic' }] }] });
const world = () => createWorld({ fleet, devices: listDevices(fleet), startMs: START, climate: DEFAULT_CLIMATE, rng: createRandom(3), weatherEffect: () => ({}), misbehaviourShare: 0 });

// Both transports (native MQTT and the LoRaWAN downlink) hand the body to handleValveCommand.
describe('valve command handling (native and LoRaWAN firmware)', () => {
  it('refuses an old open delivered after a newer close, acks it as stale and keeps the valve closed', () => {
    const w = world();
    expect(handleValveCommand(w, 'z1-v', { commandId: 'open-1', action: 'open', autoOffS: 600, issuedAt: START }, START + 1_000).obeyed).toBe(true);
    expect(handleValveCommand(w, 'z1-v', { commandId: 'close-2', action: 'close', issuedAt: START + 60_000 }, START + 61_000).obeyed).toBe(true);
    // A dead node's queued open, redelivered after the takeover close.
    const late = handleValveCommand(w, 'z1-v', { commandId: 'open-0', action: 'open', autoOffS: 3600, issuedAt: START + 30_000 }, START + 120_000);
    expect(late).toEqual({ obeyed: false, ack: { commandId: 'open-0', ok: false, state: 0, error: 'stale', ts: START + 120_000 } });
    expect(w.valveOpen('z1-v')).toBe(false);
  });
});
