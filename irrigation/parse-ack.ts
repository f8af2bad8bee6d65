import { CommandAck } from '../contracts/commands.ts';
import { parseTopic } from '../contracts/topics.ts';
import { err, ok, type Result } from '../lib/result.ts';

/** A message on gs/{valveId}/ack as data: a device's bad ack is normal traffic, not an exception. */
export function parseAck(topic: string, payload: Buffer): Result<{ valveId: string; ack: CommandAck }, { valveId?: string; reason: string }> {
  const parsed = parseTopic(topic);
  if (parsed?.format !== 'native' || parsed.channel !== 'ack') return err({ reason: 'not an ack topic' });
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return err({ valveId: parsed.deviceId, reason: 'not JSON' });
  }
  const ack = CommandAck.safeParse(body);
  if (!ack.success) return err({ valveId: parsed.deviceId, reason: ack.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  return ok({ valveId: parsed.deviceId, ack: ack.data });
}
