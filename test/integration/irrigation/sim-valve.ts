import type { MqttClient } from 'mqtt';
import { connect, publish } from '../../helpers/mqtt.ts';
import { ValveCommand } from '../../../contracts/commands.ts';

/**
 * A minimal valve controller over real MQTT: subscribes to its `down` topic, records
 * every command and (unless silent) acknowledges it on `ack`.
 * Older than the firmware simulator's valve (firmware-sim/firmware/valve-commands.ts, over
 * its physics); moving these tests onto that one would have them drive the code the
 * simulator ships.
 */
export async function startSimValve(port: number, id: string, secret: string, behaviour: 'ack' | 'silent') {
  const client: MqttClient = await connect(port, { clientId: id, username: id, password: secret });
  const commands: ValveCommand[] = [];
  let open = false;
  client.on('message', (_topic, payload) => {
    const parsed = ValveCommand.safeParse(JSON.parse(payload.toString('utf8')));
    if (!parsed.success) return;
    commands.push(parsed.data);
    if (behaviour === 'silent') return;
    open = parsed.data.action === 'open';
    void publish(client, `gs/${id}/ack`, JSON.stringify({ commandId: parsed.data.commandId, ok: true, state: open ? 1 : 0, ts: Date.now() }));
  });
  await new Promise<void>((resolve, reject) => client.subscribe(`gs/${id}/down`, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
  return {
    commands,
    get open() { return open; },
    stop: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}
