import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { limitPacketSize, openGate, setGate } from '../../../broker/packet-limit.ts';

/** `count` MQTT PUBLISH packets (QoS 0) of ~100 bytes, numbered so order can be checked. */
function publishes(from: number, count: number): Buffer {
  const packets: Buffer[] = [];
  for (let i = from; i < from + count; i++) {
    const body = Buffer.from(`\u0000\u000bgs/x-dev/up{"seq":${String(i).padStart(8, '0')},"moisture":21.5,"temperature":18.5,"battery":90,"pad":"..........."}`, 'latin1');
    packets.push(Buffer.concat([Buffer.from([0x30, body.length]), body]));
  }
  return Buffer.concat(packets);
}

describe('the per-turn read budget', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('spreads a flood from eight connections over event-loop turns, every byte in order, all served from the start', async () => {
    const BUDGET = 128 * 1024;
    const CONNECTIONS = 8;
    const gate = openGate(BUDGET);
    const sent = Array.from({ length: CONNECTIONS }, (_, k) => publishes(k * 1_000_000, 20_000)); // ~2.2 MB each
    const received: Buffer[][] = sent.map(() => []);
    // Bytes handed over per event-loop turn (a turn ends in the check phase).
    let turn = 0;
    const perTurn = new Map<number, number>();
    const firstTurnOf: number[] = [];
    let ticking = true;
    const tick = (): void => { turn++; if (ticking) setImmediate(tick); };
    setImmediate(tick);

    const done = new Promise<void>((resolve) => {
      let ended = 0;
      const server = createServer((socket) => {
        const outer = limitPacketSize(socket, 1 << 20, () => undefined, gate);
        const chunks: Buffer[] = [];
        let firstTurn = -1;
        outer.on('data', (chunk: Buffer) => {
          if (firstTurn === -1) firstTurn = turn;
          chunks.push(chunk);
          perTurn.set(turn, (perTurn.get(turn) ?? 0) + chunk.length);
        });
        outer.on('end', () => {
          // Which client this was: its first packet's number.
          const all = Buffer.concat(chunks);
          const index = sent.findIndex((s) => all.subarray(0, 40).equals(s.subarray(0, 40)));
          received[index] = chunks;
          firstTurnOf[index] = firstTurn;
          if (++ended === CONNECTIONS) resolve();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        let connected = 0;
        const clients: Socket[] = sent.map(() => connect(port, '127.0.0.1', () => {
          // All write their whole flood while reading is held: it is all waiting when it opens.
          if (++connected < CONNECTIONS) return;
          setGate(gate, true);
          clients.forEach((c, k) => c.end(sent[k]!));
          setTimeout(() => setGate(gate, false), 200);
        }));
      });
      cleanup.push(() => server.close());
    });
    await done;
    ticking = false;

    for (const [k, chunks] of received.entries()) expect(Buffer.concat(chunks).equals(sent[k]!)).toBe(true);
    // No turn took much more than its budget: the turn that spent it, plus what the turn's
    // end resumes (one socket read, up to 64 KiB, may cross each). Without the budget, libuv
    // reads every readable socket, up to 32 reads of 64 KiB each, in one turn.
    const biggest = Math.max(...perTurn.values());
    expect(biggest).toBeLessThanOrEqual(2 * BUDGET + 128 * 1024);
    // Every connection is served from the first turns, none waits for the others to finish.
    expect(Math.max(...firstTurnOf) - Math.min(...firstTurnOf)).toBeLessThanOrEqual(CONNECTIONS);
  });
});
