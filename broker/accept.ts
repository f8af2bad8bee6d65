import type { Duplex } from 'node:stream';
import type { Metrics } from '../lib/metrics.ts';
import type { RefusalLog } from '../lib/refusal-log.ts';
import type { createConnectionGuard } from './connection-guard.ts';
import { limitPacketSize, type IntakeGate } from './packet-limit.ts';

/** What the broker knows of a connection before aedes does: where it comes from and whether it is still open. */
export interface Peer {
  ip: string;
  /** Give back the address's slot for connections not yet authenticated (on success or close). */
  releaseUnauthenticated: () => void;
  /** Aborted when the socket closes: a CONNECT still waiting for its credential check is dropped. */
  closed: AbortSignal;
}

export interface AcceptDeps {
  guard: ReturnType<typeof createConnectionGuard>;
  maxPacketBytes: number;
  gate: IntakeGate;
  metrics: Metrics;
  refusals: RefusalLog;
  refused: (reason: string) => void;
  /** Hand the connection, as aedes will read it, to aedes. */
  handle: (conn: Duplex) => void;
}

/**
 * Admission at accept, before a byte is parsed: a slot among the address's unauthenticated
 * connections and among all connections, then the packet-size scanner between the socket
 * and aedes. `peerOf` answers for the stream aedes was given.
 */
export function createAccept(deps: AcceptDeps) {
  const peers = new WeakMap<Duplex, Peer>();
  const { guard, metrics } = deps;

  function accept(stream: Duplex, ip: string): void {
    const releaseUnauthenticated = guard.holdUnauthenticated(ip);
    if (!releaseUnauthenticated) {
      deps.refused('too_many_connections_from_ip');
      stream.destroy();
      return;
    }
    if (!guard.acquire()) {
      releaseUnauthenticated();
      deps.refused('too_many_connections');
      stream.destroy();
      return;
    }
    metrics.mqttConnections.set(guard.open());
    const closed = new AbortController();
    stream.once('close', () => {
      closed.abort();
      releaseUnauthenticated();
      guard.release();
      metrics.mqttConnections.set(guard.open());
    });
    const conn = limitPacketSize(stream, deps.maxPacketBytes, (verdict) => {
      const reason = verdict === 'too_large' ? 'packet_too_large' : 'malformed_packet';
      deps.refused(reason);
      deps.refusals.note(reason, ip, 'connection closed: packet refused', { maxBytes: deps.maxPacketBytes });
    }, deps.gate);
    peers.set(conn, { ip, releaseUnauthenticated, closed: closed.signal });
    deps.handle(conn);
  }
  return { accept, peerOf: (conn: unknown): Peer | undefined => peers.get(conn as Duplex) };
}
