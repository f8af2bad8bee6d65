import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import { parseTopic, type ParsedTopic } from '../../../contracts/topics.ts';
import { checkApplicationBinding, topicApplication } from '../../../ingest/lorawan-binding.ts';

const EUI = '24e124126c470001';
const APP_A = '17c82e96-be03-4f38-aef3-f83d48582d97';
const APP_B = '9a0d1b3c-5e7f-4a2b-8c4d-6e8f0a1b2c3d';

const device = (lorawanApplication?: string): DeviceInfo => ({
  id: 'soil-1', kind: 'soil', devEui: EUI, reportIntervalS: 900, disabled: false,
  districtId: 'd', communityId: 'c', zoneId: 'z', plant: 'lawn',
  facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined,
  ...(lorawanApplication === undefined ? {} : { lorawanApplication }),
});
const topic = (t: string): ParsedTopic => {
  const parsed = parseTopic(t);
  if (!parsed) throw new Error(`not a topic: ${t}`);
  return parsed;
};
const cs = (app: string) => topic(`application/${app}/device/${EUI}/event/up`);
const tts = (appAtTenant: string) => topic(`v3/${appAtTenant}/devices/eui-${EUI}/up`);

describe('checkApplicationBinding', () => {
  it.each([
    ['a native topic, whatever the binding', topic('gs/soil-1/up'), APP_A],
    ['a native topic of an unbound device', topic('gs/soil-1/up'), undefined],
    ['an unbound device from ChirpStack (accepted as before bindings)', cs(APP_A), undefined],
    ['an unbound device from TTS', tts('greenspace-soil@ttn'), undefined],
    ['its own ChirpStack application', cs(APP_A), APP_A],
    ['its own TTS application and tenant', tts('greenspace-soil@ttn'), 'greenspace-soil@ttn'],
  ])('accepts %s', (_, t, bound) => {
    expect(checkApplicationBinding(t, device(bound))).toBeUndefined();
  });

  it.each([
    ['another ChirpStack application', cs(APP_B), APP_A, `device soil-1 belongs to application ${APP_A}, not ${APP_B}`],
    ['the same TTS application of another tenant', tts('greenspace-soil@other'), 'greenspace-soil@ttn', 'device soil-1 belongs to application greenspace-soil@ttn, not greenspace-soil@other'],
    ['another TTS application', tts('parks@ttn'), 'greenspace-soil@ttn', 'device soil-1 belongs to application greenspace-soil@ttn, not parks@ttn'],
    ['ChirpStack for a device bound to TTS', cs('greenspace-soil'), 'greenspace-soil@ttn', 'device soil-1 belongs to application greenspace-soil@ttn, not greenspace-soil'],
    ['TTS for a device bound to ChirpStack', tts('greenspace-soil@ttn'), APP_A, `device soil-1 belongs to application ${APP_A}, not greenspace-soil@ttn`],
    ['a ChirpStack id differing only in case (topics are exact, as the ACL is)', cs(APP_A.toUpperCase()), APP_A, `not ${APP_A.toUpperCase()}`],
  ])('refuses %s as wrong_application, naming both', (_, t, bound, detail) => {
    const rejection = checkApplicationBinding(t, device(bound));
    expect(rejection?.reason).toBe('wrong_application');
    expect(rejection?.detail).toContain(detail);
  });

  it.each([
    [topic('gs/x/up'), undefined],
    [cs(APP_A), APP_A],
    [tts('app-1@tenant-1'), 'app-1@tenant-1'],
  ])('names the application of %j as a binding spells it', (t, expected) => {
    expect(topicApplication(t)).toBe(expected);
  });
});
