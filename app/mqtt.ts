import { createMqttBroker, type MqttBroker } from '../broker/create-broker.ts';
import { brokerOptionsFromConfig } from '../broker/options-from-config.ts';
import { startMqttSource } from '../ingest/mqtt-source.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import type { createDeviceRegistry } from '../registry/devices.ts';
import type { createServiceAccounts } from '../registry/service-accounts.ts';
import type { createInventoryService } from '../inventory/service.ts';
import type { RedisBrokerTier } from '../cluster/redis-tier.ts';
import type { AppContext } from './context.ts';

export interface BrokerFeatureDeps {
  devices: ReturnType<typeof createDeviceRegistry>;
  serviceAccounts: ReturnType<typeof createServiceAccounts>;
  inventory: Pick<ReturnType<typeof createInventoryService>, 'onDevicesRemoved'>;
  ingest: Ingest;
  /** Clustered: the shared bus and persistence (app/cluster.ts). */
  tier?: RedisBrokerTier | undefined;
}

/**
 * The embedded MQTT broker, created early (irrigation publishes its valve commands through
 * it) with its ports still closed; `openMqtt` lets devices in once every feature runs.
 */
export async function startBroker(ctx: AppContext, deps: BrokerFeatureDeps) {
  const { config, logger, metrics, clock } = ctx;
  const { tier } = deps;
  const broker = await createMqttBroker({
    host: config.mqttHost,
    port: config.mqttPort,
    logger: logger.child({ module: 'broker' }),
    metrics,
    authenticateDevice: (id, secret) => deps.devices.authenticate(id, secret),
    deviceHasKeyedHash: (id) => deps.devices.hasKeyedHash(id),
    getDevice: (id) => deps.devices.get(id),
    isReadingTopic: deps.ingest.isReadingTopic,
    ingest: deps.ingest.submit,
    services: deps.serviceAccounts,
    now: () => clock.now(),
    listenLater: true,
    ...(tier ? { cluster: tier } : {}),
    ...brokerOptionsFromConfig(config),
  });
  // A device retired by an inventory import loses its live connection too, not just its next CONNECT.
  const stopRetirements = deps.inventory.onDevicesRemoved((ids) => { for (const id of ids) broker.disconnectDevice(id); });
  return {
    broker,
    /** The shared tier's health for /readyz, when clustered. */
    clusterReady: tier ? () => tier.ping() : undefined,
    async stop(): Promise<void> {
      stopRetirements();
      await broker.close(); // already closed by openMqtt's stop, unless a later feature failed to start
    },
  };
}

/**
 * Open the doors, last: the broker's ports, the intake control's hold on its sockets, and
 * the upstream MQTT source (GS_MQTT_SOURCE) when configured. Its stop runs first: no
 * reading, ack or request arrives at a stopped engine.
 */
export async function openMqtt(ctx: AppContext, deps: { broker: MqttBroker; ingest: Ingest; onHold: (name: string, holder: (hold: boolean) => void) => () => void }) {
  const { config, logger } = ctx;
  const { broker } = deps;
  const stopHolding = deps.onHold('broker', (hold) => broker.holdIntake(hold));
  await broker.listen();
  const source = config.mqttSource
    ? await startMqttSource({
      url: config.mqttSource,
      clientId: config.mqttSourceClientId,
      group: config.mqttSourceGroup,
      connections: config.mqttSourceConnections,
      logger: logger.child({ module: 'mqtt-source' }),
      ingest: (msg) => deps.ingest.handle(msg),
    })
    : undefined;
  return {
    async stop(): Promise<void> {
      stopHolding();
      broker.holdIntake(false);
      await source?.close();
      await broker.close();
    },
  };
}
