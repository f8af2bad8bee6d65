import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../config/config.ts';
import { brokerOptionsFromConfig } from '../../../broker/options-from-config.ts';
import { DEFAULT_BROKER_LIMITS } from '../../../broker/create-broker.ts';

describe('brokerOptionsFromConfig', () => {
  it('hands the password-check capacity to the broker', () => {
    const { limits } = brokerOptionsFromConfig(loadConfig({
      GS_MQTT_AUTH_CONCURRENCY: '12', GS_MQTT_AUTH_QUEUE: '20000', GS_MQTT_AUTH_FAILURE_BURST_PER_IP: '50', GS_MQTT_AUTH_FAILURE_RATE_PER_IP_PER_S: '0.5',
    }));
    expect(limits?.credentialChecks).toEqual({ concurrency: 12, queue: 20_000, perAddress: { burst: 50, ratePerS: 0.5 } });
  });

  it('gives the broker its own defaults when nothing is configured', () => {
    expect(brokerOptionsFromConfig(loadConfig({})).limits).toEqual(DEFAULT_BROKER_LIMITS);
  });
});
