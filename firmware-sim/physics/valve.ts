import { isStaleCommand, STALE_COMMAND_ERROR, type CommandAck, type ValveCommand } from '../../contracts/commands.ts';

/** A valve controller's state; the flow is the zone's supply when open. */
export interface ValveState {
  open: boolean;
  /** Sim epoch ms at which the device closes by itself (the command's autoOffS). */
  closeAt: number | undefined;
  volumeL: number;
  /** The time volume was last integrated to. */
  lastAt: number;
  /** Acks of recent commands, so a retried command is acknowledged again, not re-applied. */
  recentAcks: Array<[string, CommandAck]>;
  actuations: number;
  /** issuedAt of the last command obeyed: an older one is refused as stale (contracts/commands.ts isStaleCommand). */
  lastIssuedAt: number | undefined;
}

const RECENT = 16;

export const closedValve = (t: number): ValveState => ({ open: false, closeAt: undefined, volumeL: 0, lastAt: t, recentAcks: [], actuations: 0, lastIssuedAt: undefined });

/** Integrate volume up to t and close at the auto-off time if it has passed. */
export function advanceValve(s: ValveState, t: number, flowLPerMin: number): ValveState {
  if (t <= s.lastAt) return s;
  if (!s.open) return { ...s, lastAt: t };
  const end = s.closeAt !== undefined ? Math.min(t, s.closeAt) : t;
  const volumeL = s.volumeL + (flowLPerMin * Math.max(0, end - s.lastAt)) / 60_000;
  const expired = s.closeAt !== undefined && s.closeAt <= t;
  return { ...s, volumeL, lastAt: t, open: !expired, closeAt: expired ? undefined : s.closeAt, actuations: s.actuations + (expired ? 1 : 0) };
}

/**
 * Obey a command at t and say so; a repeated commandId gets its first ack again. A stale
 * command (older than the last one obeyed, or an open older than COMMAND_MAX_AGE_MS by the valve's clock)
 * is refused and not remembered: re-issued with a fresh issuedAt, it is judged afresh.
 */
export function applyValveCommand(s: ValveState, cmd: ValveCommand, t: number, flowLPerMin: number): { state: ValveState; ack: CommandAck } {
  const current = advanceValve(s, t, flowLPerMin);
  const seen = current.recentAcks.find(([id]) => id === cmd.commandId);
  if (seen) return { state: current, ack: seen[1] };
  if (isStaleCommand(cmd, current.lastIssuedAt, t)) {
    return { state: current, ack: { commandId: cmd.commandId, ok: false, state: current.open ? 1 : 0, error: STALE_COMMAND_ERROR, ts: t } };
  }
  const open = cmd.action === 'open';
  const next: ValveState = {
    ...current,
    lastIssuedAt: cmd.issuedAt,
    open,
    closeAt: open ? t + (cmd.autoOffS ?? 0) * 1000 : undefined,
    actuations: current.actuations + (open !== current.open ? 1 : 0),
  };
  const ack: CommandAck = { commandId: cmd.commandId, ok: true, state: open ? 1 : 0, ts: t };
  next.recentAcks = [...current.recentAcks, [cmd.commandId, ack] as [string, CommandAck]].slice(-RECENT);
  return { state: next, ack };
}
