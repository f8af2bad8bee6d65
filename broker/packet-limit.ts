import { Duplex } from 'node:stream';

export type PacketVerdict = 'ok' | 'too_large' | 'malformed';

/**
 * Reads MQTT fixed headers as bytes stream past: the packet type byte, then the remaining
 * length (1-4 bytes of 7 bits, MQTT 3.1.1 §2.2.3), then skips the body. It refuses a
 * packet as soon as its header announces more than `maxBytes` in total, before aedes
 * (which has no size option) would buffer it whole.
 */
/**
 * The first packet is the CONNECT, read before any authentication: a client id, a will,
 * credentials. It gets a small limit of its own, so connections that never authenticate
 * cannot each make aedes buffer a packet of `maxBytes`.
 */
export const MAX_CONNECT_BYTES = 64 * 1024;

/**
 * What one connection may have read but aedes not yet parsed before its socket is paused.
 * Node's default (16 KiB) paused and resumed a busy publisher's socket every ~200
 * readings, a pair of syscalls and an event-loop turn each time.
 */
const READ_BUFFER_BYTES = 256 * 1024;

export function createPacketScanner(maxBytes: number, maxFirstBytes = Math.min(maxBytes, MAX_CONNECT_BYTES)) {
  let limit = maxFirstBytes;
  let phase: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  let failed: PacketVerdict = 'ok';

  return {
    feed(chunk: Uint8Array): PacketVerdict {
      let i = 0;
      while (failed === 'ok' && i < chunk.length) {
        if (phase === 'type') {
          i += 1;
          phase = 'length';
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
        } else if (phase === 'length') {
          const byte = chunk[i++] as number;
          length += (byte & 0x7f) * multiplier;
          multiplier *= 128;
          lengthBytes += 1;
          if (byte & 0x80) {
            if (lengthBytes === 4) failed = 'malformed';
          } else if (1 + lengthBytes + length > limit) {
            failed = 'too_large';
          } else {
            limit = maxBytes;
            remaining = length;
            phase = remaining > 0 ? 'body' : 'type';
          }
        } else {
          const skip = Math.min(remaining, chunk.length - i);
          i += skip;
          remaining -= skip;
          if (remaining === 0) phase = 'type';
        }
      }
      return failed;
    },
  };
}

/**
 * The connection as aedes sees it: bytes pass through a scanner, and the first packet
 * past the limit (or a malformed length) destroys the connection. Works for any duplex
 * transport (TCP, TLS, WebSocket stream).
 */
/**
 * Shared by every connection: while `paused`, sockets are not read (their senders feel TCP
 * backpressure); each connection that stopped for it leaves its way to resume in `waiting`.
 */
export interface IntakeGate {
  paused: boolean;
  waiting: Set<() => void>;
  /**
   * Bytes all connections may hand to aedes in one event-loop turn (0: no limit). libuv
   * reads a readable socket up to 32 times per poll, 64 KiB each, and aedes parses all of
   * it at once, so under a flood one turn took in hundreds of thousands of readings. Their
   * durable-log write and their rules wait for the next turn, so every one of them stayed
   * alive through several scavenges (GC was a fifth of the event loop), and a turn took
   * most of a second (timers, keepalives and the HTTP API waited as long).
   */
  turnBudget: number;
  /** Bytes handed over since the turn began; the check phase starts the next. */
  turnBytes: number;
  turnEnding: boolean;
}

export const DEFAULT_TURN_BUDGET = 256 * 1024;

export const openGate = (turnBudget = DEFAULT_TURN_BUDGET): IntakeGate => ({ paused: false, waiting: new Set(), turnBudget, turnBytes: 0, turnEnding: false });

/** Close the gate, or open it and resume the connections that were held, oldest first, as far as this turn's budget goes. */
export function setGate(gate: IntakeGate, paused: boolean): void {
  gate.paused = paused;
  if (!paused) release(gate);
}

function release(gate: IntakeGate): void {
  for (const resume of gate.waiting) {
    if (stopped(gate)) return; // the rest wait, in order, for the next turn
    gate.waiting.delete(resume);
    resume();
  }
}

/** Is reading stopped, by a hold or because this turn's budget is spent (the turn's end resumes it)? */
function stopped(gate: IntakeGate): boolean {
  return gate.paused || (gate.turnBudget > 0 && gate.turnBytes >= gate.turnBudget);
}

/** Count bytes handed to aedes in this turn; the first of a turn schedules its end (the check phase). */
function spend(gate: IntakeGate, bytes: number): void {
  if (gate.turnBudget === 0) return;
  if (!gate.turnEnding) {
    gate.turnEnding = true;
    setImmediate(() => {
      gate.turnEnding = false;
      gate.turnBytes = 0;
      release(gate); // nothing while a hold lasts: setGate releases them then
    });
  }
  gate.turnBytes += bytes;
}

export function limitPacketSize(inner: Duplex, maxBytes: number, onRefuse: (verdict: Exclude<PacketVerdict, 'ok'>) => void, gate: IntakeGate = openGate()): Duplex {
  const scanner = createPacketScanner(maxBytes);
  // Bytes read while the gate was closed: kept here, not given to aedes, until it opens.
  let held: Buffer[] = [];
  // The peer ended (or the socket closed) after bytes were held: a device that connects,
  // publishes and disconnects sends its FIN right behind its readings, and Node emits 'end'
  // on a paused socket. The end is passed on after the held bytes, never before them.
  let endAfterHeld = false;
  const resume = (): void => {
    if (outer.destroyed) return;
    const chunks = held;
    held = [];
    let room = true;
    for (const chunk of chunks) {
      spend(gate, chunk.length);
      room = outer.push(chunk);
    }
    if (endAfterHeld) {
      endAfterHeld = false;
      outer.push(null);
      return;
    }
    if (room) inner.resume();
  };
  const outer = new Duplex({
    readableHighWaterMark: READ_BUFFER_BYTES,
    read() {
      if (stopped(gate)) gate.waiting.add(resume);
      else inner.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      inner.write(chunk, encoding, callback);
    },
    // mqtt-packet corks the stream for each packet it writes and uncorks on the next tick:
    // everything aedes wrote in the meantime (a PUBACK per message of a group commit) goes
    // to the socket as one write, as it would without this wrapper.
    writev(chunks, callback) {
      inner.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk as Buffer)), callback);
    },
    final(callback) {
      inner.end();
      callback();
    },
    destroy(error, callback) {
      inner.destroy();
      callback(error);
    },
  });
  inner.on('data', (chunk: Buffer) => {
    if (outer.destroyed) return;
    const verdict = scanner.feed(chunk);
    if (verdict !== 'ok') {
      onRefuse(verdict);
      outer.destroy();
      return;
    }
    if (stopped(gate)) {
      held.push(chunk);
      inner.pause();
      gate.waiting.add(resume);
      return;
    }
    spend(gate, chunk.length);
    if (!outer.push(chunk)) inner.pause();
  });
  let ended = false;
  inner.once('end', () => {
    ended = true;
    if (held.length > 0) endAfterHeld = true;
    else outer.push(null);
  });
  inner.once('error', (error) => outer.destroy(error));
  inner.once('close', () => {
    // A peer that ended cleanly sent everything before its FIN: what aedes has not read yet
    // (held by the gate, or buffered here) is still its messages. aedes reads them, then the
    // end, and closes the client itself; its answers then fail to write, as for any closed peer.
    if (ended && !inner.errored) return;
    gate.waiting.delete(resume);
    outer.destroy();
  });
  return outer;
}
