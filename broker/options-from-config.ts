import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import type { BrokerDeps } from './create-broker.ts';

/** The broker's limits and listeners from the configuration; certificate files are read here, at start-up. */
export function brokerOptionsFromConfig(config: Config, readFile: (path: string) => Buffer = (p) => readFileSync(p)): Pick<BrokerDeps, 'limits' | 'listeners'> {
  const needsTls = config.mqttTlsPort !== undefined || config.mqttWssPort !== undefined;
  return {
    limits: {
      maxPacketBytes: config.mqttMaxPacketBytes,
      publish: {
        device: { ratePerS: config.mqttPublishRatePerS, burst: config.mqttPublishBurst },
        service: { ratePerS: config.mqttServicePublishRatePerS, burst: config.mqttServicePublishBurst },
        disconnectAfter: config.mqttRateLimitDisconnectAfter,
        windowMs: 60_000,
      },
      maxConnections: config.mqttMaxConnections,
      connectsPerIp: { ratePerS: config.mqttConnectRatePerIpPerS, burst: config.mqttConnectBurstPerIp },
      credentialChecks: {
        concurrency: config.mqttAuthConcurrency,
        queue: config.mqttAuthQueue,
        perAddress: { burst: config.mqttAuthFailureBurstPerIp, ratePerS: config.mqttAuthFailureRatePerIpPerS },
      },
    },
    listeners: {
      tlsPort: config.mqttTlsPort,
      wsPort: config.mqttWsPort,
      wssPort: config.mqttWssPort,
      tls: needsTls && config.mqttTlsCert && config.mqttTlsKey ? { cert: readFile(config.mqttTlsCert), key: readFile(config.mqttTlsKey) } : undefined,
    },
  };
}
