import type { MqttClient } from 'mqtt';
import { connect, publish } from '../../helpers/mqtt.ts';
import { isStaleCommand, STALE_COMMAND_ERROR, ValveCommand } from '../../../contracts/commands.ts';

/**
 * A minimal valve controller over real MQTT: subscribes to its `down` topic, records
 * every command and (unless silent) acknowledges it on `ack`. Like a real controller it
 * refuses a stale command (contracts/commands.ts isStaleCommand) with `ok: false, error:
 * 'stale'` and leaves the valve as it was; `clockOffsetMs` puts its clock ahead (+) of this
 * machine's, as a valve with a wrong clock.
 * Older than the firmware simulator's valve (firmware-sim/firmware/valve-commands.ts, over
 * its physics); moving these tests onto that one would have them drive the code the
 * simulator ships.
 */
export async function startSimValve(port: number, id: string, secret: string, behaviour: 'ack' | 'silent', options: { clockOffsetMs?: number } = {}) {
  const client: MqttClient = await connect(port, { clientId: id, username: id, password: secret });
  const commands: ValveCommand[] = [];
  const refused: ValveCommand[] = [];
  let open = false;
  let lastIssuedAt: number | undefined;
  client.on('message', (_topic, payload) => {
    const parsed = ValveCommand.safeParse(JSON.parse(payload.toString('utf8')));
    if (!parsed.success) return;
    const cmd = parsed.data;
    commands.push(cmd);
    if (behaviour === 'silent') return;
    const now = Date.now() + (options.clockOffsetMs ?? 0);
    const stale = isStaleCommand(cmd, lastIssuedAt, now);
    if (stale) refused.push(cmd);
    else {
      open = cmd.action === 'open';
      lastIssuedAt = cmd.issuedAt;
    }
    const ack = { commandId: cmd.commandId, ok: !stale, state: open ? 1 : 0, ...(stale ? { error: STALE_COMMAND_ERROR } : {}), ts: now };
    void publish(client, `gs/${id}/ack`, JSON.stringify(ack));
  });
  await new Promise<void>((resolve, reject) => client.subscribe(`gs/${id}/down`, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
  return {
    /** Every valid command received, obeyed or not. */
    commands,
    /** The ones refused as stale. */
    refused,
    get open() { return open; },
    stop: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}
