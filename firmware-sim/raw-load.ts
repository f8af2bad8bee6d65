import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import mqttPacket from 'mqtt-packet';
import { deviceTopic } from '../contracts/topics.ts';
import { connectAll, drive, lastTsByDevice, loadReport, nextTimestamp, payloadFor, waitFor, type LoadOptions, type LoadReport } from './load.ts';

/**
 * The load generator without mqtt.js: the same devices, payloads, timestamps, in-flight
 * window and report as `runLoad`, from a minimal MQTT 3.1.1 client. CONNECT, CONNACK,
 * PUBACK and DISCONNECT go through mqtt-packet; PUBLISH packets are encoded here, many to
 * one socket write.
 *
 * Why: the benchmark's generator shares the machine's two cores with the app it measures.
 * mqtt.js spends ~6 µs of CPU per QoS 0 publish and ~20 µs per QoS 1 publish (a packet
 * object, an outgoing store, a `debug()` call and a socket write each), which at the
 * target rates is a third to two thirds of a core taken from the app. Devices in the
 * field are other machines; this keeps the generator's share small.
 */
interface Conn {
  id: string;
  socket: Socket;
  topic: Buffer;
  seq: number;
  lastTs: number;
  outstanding: number;
  nextId: number;
  /** Publish time by packet id (QoS 1), for ack latency. */
  sentAt: Float64Array;
  open: boolean;
  /** Waiting for 'drain' (QoS 0: the socket's buffer is full). */
  blocked: boolean;
  /** QoS 0: the next round is scheduled. */
  yielding: boolean;
}

/** Publishes encoded per socket write while the window allows (QoS 1) or the socket takes them (QoS 0). */
const PER_WRITE = 64;

/** An MQTT 3.1.1 PUBLISH packet; `id` is written for QoS 1 only. */
function encodePublish(topic: Buffer, payload: Buffer, qos: 0 | 1, id: number): Buffer {
  const idBytes = qos === 1 ? 2 : 0;
  const remaining = 2 + topic.length + idBytes + payload.length;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  let i = 0;
  out[i++] = 0x30 | (qos << 1);
  for (let n = remaining; ; ) {
    const byte = n % 128;
    n = Math.floor(n / 128);
    out[i++] = n > 0 ? byte | 0x80 : byte;
    if (n === 0) break;
  }
  out.writeUInt16BE(topic.length, i);
  i += 2;
  i += topic.copy(out, i);
  if (qos === 1) {
    out.writeUInt16BE(id, i);
    i += 2;
  }
  payload.copy(out, i);
  return out;
}

/**
 * QoS 1: a moment for outstanding acks, then a forced close (what was never acknowledged
 * is not counted). QoS 0: a clean end, which sends everything the socket still buffers.
 */
async function closeAll(conns: Conn[], qos: 0 | 1): Promise<void> {
  const settleUntil = performance.now() + 5_000;
  while (qos === 1 && conns.some((c) => c.open && c.outstanding > 0) && performance.now() < settleUntil) await waitFor(10);
  await Promise.all(conns.map((c) => new Promise<void>((resolve) => {
    if (c.socket.destroyed) return resolve();
    c.socket.once('close', () => resolve());
    if (qos === 1) c.socket.destroy();
    else c.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
  })));
}

export async function runRawLoad(o: LoadOptions): Promise<LoadReport> {
  const url = new URL(o.url);
  if (url.protocol !== 'mqtt:') throw new Error(`the minimal client speaks plain MQTT over TCP (mqtt://), not ${url.protocol}`);
  const hostname = url.hostname;
  const port = url.port === '' ? 1883 : Number(url.port);
  const qos = o.qos ?? 1;
  const window = Math.max(1, o.inflight ?? 16);
  const batch = Math.max(1, o.batchSize ?? 1);
  let published = 0;
  let acked = 0;
  let errors = 0;
  let running = true;
  const latencies: number[] = [];

  function encode(c: Conn, now: number): Buffer {
    const ts = nextTimestamp(c, batch);
    const payload = Buffer.from(payloadFor(o.reading, c.id, c.seq, ts, batch));
    c.seq += batch;
    if (qos === 0) return encodePublish(c.topic, payload, 0, 0);
    const id = c.nextId;
    c.nextId = id === 65_535 ? 1 : id + 1;
    c.sentAt[id] = now;
    return encodePublish(c.topic, payload, 1, id);
  }

  /** Send up to `count` publishes in one write. */
  function send(c: Conn, count: number): void {
    if (count <= 0 || !c.open) return;
    const now = performance.now();
    const packets: Buffer[] = [];
    for (let k = 0; k < count; k++) packets.push(encode(c, now));
    c.outstanding += qos === 1 ? count : 0;
    published += count;
    const room = c.socket.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets));
    if (qos === 0) {
      acked += count; // handed to the socket; the clean end flushes it
      if (!room) c.blocked = true;
    }
  }

  /** As fast as the broker takes them: QoS 1 to the window, QoS 0 until the socket's buffer is full. */
  function fill(c: Conn): void {
    if (!running || o.rate) return;
    if (qos === 1) return send(c, Math.min(PER_WRITE, window - c.outstanding));
    // The kernel may take every write at once: yield to the event loop between rounds.
    for (let k = 0; k < 16 && c.open && !c.blocked; k++) send(c, PER_WRITE);
    if (c.open && !c.blocked && !c.yielding) {
      c.yielding = true;
      setImmediate(() => {
        c.yielding = false;
        fill(c);
      });
    }
  }

  function open(device: { id: string; secret: string }): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port });
      socket.setNoDelay(true);
      const c: Conn = { id: device.id, socket, topic: Buffer.from(deviceTopic(device.id, 'up')), seq: 0, lastTs: lastTsByDevice.get(device.id) ?? 0, outstanding: 0, nextId: 1, sentAt: new Float64Array(65_536), open: false, blocked: false, yielding: false };
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const timer = setTimeout(() => fail(new Error('connect timeout')), 30_000);
      let settled = false;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        if (c.open) errors++;
        c.open = false;
        socket.destroy();
        if (!settled) reject(error);
        settled = true;
      };
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connack') {
          clearTimeout(timer);
          if (packet.returnCode !== 0) return fail(new Error(`connack ${packet.returnCode}`));
          c.open = true;
          settled = true;
          resolve(c);
        } else if (packet.cmd === 'puback' && packet.messageId !== undefined) {
          c.outstanding--;
          acked++;
          latencies.push(performance.now() - c.sentAt[packet.messageId]!);
        }
      });
      parser.on('error', (error) => fail(error));
      socket.on('data', (chunk: Buffer) => {
        parser.parse(chunk);
        if (qos === 1) fill(c); // every PUBACK of this chunk frees its slot: refill in one write
      });
      socket.on('drain', () => {
        c.blocked = false;
        if (!c.yielding) fill(c);
      });
      socket.on('error', (error) => fail(error));
      socket.on('close', () => {
        if (!c.open) return fail(new Error('closed before CONNACK')); // refused without one (a connect rate limit)
        if (running) errors++;
        c.open = false;
      });
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: device.id, username: device.id, password: Buffer.from(device.secret), clean: true, keepalive: 120 }));
    });
  }

  const { conns, connectFailures, connectMs } = await connectAll(o, open);

  const { durationMs, behind } = await drive(o, conns.length, () => conns.forEach(fill), (i) => {
    const c = conns[i]!;
    if (!c.open || (qos === 1 && c.outstanding >= window)) return false;
    send(c, 1);
    return true;
  });
  running = false;
  const ackedInWindow = acked;
  const publishedInWindow = published;
  for (const c of conns) lastTsByDevice.set(c.id, c.lastTs);
  await closeAll(conns, qos);
  return loadReport({ connections: conns.length, connectFailures, connectMs, durationMs, published, acked, errors, behind, msgs: qos === 1 ? ackedInWindow : publishedInWindow, batch, latencies });
}
