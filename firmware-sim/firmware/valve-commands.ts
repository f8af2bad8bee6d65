import { ValveCommand, type CommandAck } from '../../contracts/commands.ts';
import type { World } from '../world.ts';

export type CommandOutcome =
  | { obeyed: true; ack: CommandAck; closeAt: number | undefined }
  | { obeyed: false; ack: CommandAck | undefined };

/**
 * What a valve controller does with a command body, whatever the transport brought it:
 * obey a valid, current ValveCommand; refuse a stale one (physics/valve.ts) with its ack,
 * and anything else with an ack when it can name the command.
 */
export function handleValveCommand(world: World, valveId: string, body: unknown, t: number): CommandOutcome {
  const parsed = ValveCommand.safeParse(body);
  if (!parsed.success) {
    const commandId = (body as { commandId?: unknown } | null | undefined)?.commandId;
    // Without a usable command id there is nothing to acknowledge.
    if (typeof commandId !== 'string' || commandId.length === 0 || commandId.length > 64) return { obeyed: false, ack: undefined };
    const error = parsed.error.issues.map((i) => `${i.path.join('.') || 'command'}: ${i.message}`).join('; ').slice(0, 200);
    return { obeyed: false, ack: { commandId, ok: false, state: world.valveOpen(valveId) ? 1 : 0, error, ts: t } };
  }
  const ack = world.command(valveId, parsed.data, t);
  if (!ack.ok) return { obeyed: false, ack };
  return { obeyed: true, ack, closeAt: world.valveCloseAt(valveId) };
}

export const parseJsonOrUndefined = (payload: Buffer): unknown => {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
};
