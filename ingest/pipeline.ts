import { parseTopic, type ParsedTopic } from '../contracts/topics.ts';
import { dedupKeyText, type AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Rejection } from '../contracts/rejects.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { decode } from './decode.ts';
import type { DeviceRef } from './decoders/types.ts';
import { checkReading, type ValidationLimits } from './validate.ts';
import { createDedup } from './dedup.ts';
import { deriveTilt, toPoint } from './to-point.ts';
import { recordRejection, type DeadLetter } from './dead-letters.ts';
import { checkApplicationBinding } from './lorawan-binding.ts';

export interface IngestMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** The authenticated device, when a device published (native topics); undefined for services. */
  device?: DeviceInfo | undefined;
}

/** Called once per message: without an error when its readings are durable or it was refused; with one when the disk failed. */
export type Settle = (error?: Error) => void;

export interface IngestDeps {
  lookup: { get(id: string): DeviceInfo | undefined; getByDevEui(devEui: string): DeviceInfo | undefined };
  /**
   * Durable append; resolves once on disk. Appends made until the next commit may share
   * one promise (the durable log's group commit): the ingest then settles them together.
   */
  append: (lines: string[]) => Promise<void>;
  /** Resolves once everything appended so far is fdatasync'd (a QoS 1 duplicate of a QoS 0 original waits for it). */
  syncPoint?: () => Promise<void>;
  /** One line; the hot path's form of `append` (defaults to it). `sync` false: a QoS 0 reading, owed no fdatasync. */
  appendLine?: (line: string, sync: boolean) => Promise<void>;
  deadLetter: (letter: DeadLetter) => void;
  /** Accepted readings, after they are durable, for the rules engine. */
  onReading?: (reading: AcceptedReading, device: DeviceInfo) => void;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  limits: ValidationLimits & { maxPayloadBytes: number };
}

export type Ingest = ReturnType<typeof createIngest>;

/** Does this topic carry readings (as opposed to status, acks, other LoRaWAN events)? */
export function isReadingTopic(topic: string): boolean {
  return carriesReadings(parseTopic(topic));
}

const carriesReadings = (parsed: ParsedTopic | undefined): boolean =>
  parsed !== undefined && (parsed.format === 'native' ? parsed.channel === 'up' : parsed.event === 'up');

/** Readings appended to the log that become durable together (one group commit). */
interface Group {
  done: Promise<void>;
  settled: boolean;
  readings: AcceptedReading[];
  devices: DeviceInfo[];
  settles: Settle[];
  /** Readings of this group whose timestamp the server assigned: [`${device}\0${dedupKey}`, ts]. */
  assigned?: Array<[string, number]>;
}

/** Parsed topics by topic string: a device publishes on the same topic all its life. */
const TOPIC_CACHE_MAX = 200_000;

/**
 * The publish path for readings: size → topic → decode → device → timestamp → validate →
 * dedup → point → durable append. Every refusal is counted and dead-lettered. `submit` is
 * synchronous up to the append and allocates one promise per group commit, not per message:
 * each message's `settle` runs when its points are durable (the broker holds a QoS 1 PUBACK
 * until then), with an error only when the local disk failed.
 */
export function createIngest(deps: IngestDeps) {
  const { metrics, clock, limits } = deps;
  const appendLine = deps.appendLine ?? ((line: string) => deps.append([line]));
  const dedup = createDedup({ perDevice: 256, maxDevices: 200_000 });
  const lastAssignedTs = new Map<string, number>();
  const lastTilt = new Map<string, { pitch: number; roll: number; ts: number }>();
  // The timestamps the server gave readings whose append failed, for their resends. A failed
  // fdatasync leaves the written lines in the log (the shipper may already have sent them),
  // so a resend must be the same point (same series and time), not a second one. Bounded:
  // the oldest are forgotten first.
  const retryTs = new Map<string, number>();
  const RETRY_TS_MAX = 100_000;
  const topics = new Map<string, ParsedTopic | null>();
  // The group still filling, and the latest one not yet durable. Groups commit in order,
  // so a retransmission that arrives while its original is on its way to disk (a QoS 1
  // resend after a reconnect) waits for the latest group: the original is in it or earlier.
  let filling: Group | undefined;
  let latest: Group | undefined;
  let failedGroups = 0;
  // Hot counters are counted here and added to prom-client per group: a labelled inc per
  // message costs a label hash each time.
  const received = { native: 0, chirpstack: 0, tts: 0 };
  const acceptedBy = memo((kind: string) => metrics.readingsAccepted.labels(kind));
  const receivedBy = memo((format: string) => metrics.messagesReceived.labels(format));

  function flushCounters(): void {
    for (const format of ['native', 'chirpstack', 'tts'] as const) {
      if (received[format] > 0) receivedBy(format).inc(received[format]);
      received[format] = 0;
    }
  }

  function parse(topic: string): ParsedTopic | undefined {
    let parsed = topics.get(topic);
    if (parsed === undefined) {
      if (topics.size >= TOPIC_CACHE_MAX) topics.clear();
      parsed = parseTopic(topic) ?? null;
      topics.set(topic, parsed);
    }
    return parsed ?? undefined;
  }

  function reject(rejection: Rejection, msg: IngestMessage, deviceId: string | undefined): void {
    flushCounters();
    recordRejection(metrics, deps.deadLetter, { at: clock.now(), reason: rejection.reason, detail: rejection.detail, deviceId, topic: msg.topic, payload: msg.payload });
  }

  function resolveDevice(ref: DeviceRef, msg: IngestMessage): DeviceInfo | undefined {
    if (ref.by === 'id') return msg.device?.id === ref.id ? msg.device : deps.lookup.get(ref.id);
    return deps.lookup.getByDevEui(ref.devEui) ?? (ref.fallbackId ? deps.lookup.get(ref.fallbackId) : undefined);
  }

  /** Server-assigned timestamps are made unique per device: equal ones would overwrite each other. */
  function assignTs(deviceId: string, receivedAt: number): number {
    const last = lastAssignedTs.get(deviceId) ?? 0;
    const ts = receivedAt > last ? receivedAt : last + 1;
    lastAssignedTs.set(deviceId, ts);
    return ts;
  }

  /**
   * The group an append's promise belongs to; a new promise starts a new group. `inLog`
   * false: readings with nothing to store (a gateway's), settled at once. Such a group is
   * no commit of the log, so it must not become `latest`: a retransmission waiting on it
   * would be acknowledged before its original, still on its way to disk, is durable.
   */
  function groupOf(done: Promise<void>, inLog = true): Group {
    if (inLog && filling?.done === done) return filling;
    const group: Group = { done, settled: false, readings: [], devices: [], settles: [] };
    if (inLog) filling = latest = group;
    done.then(() => completed(group), (error: unknown) => failed(group, error as Error));
    return group;
  }

  function completed(group: Group): void {
    group.settled = true;
    if (filling === group) filling = undefined;
    flushCounters();
    for (const settle of group.settles) settle();
    let soil = 0;
    for (let i = 0; i < group.readings.length; i++) {
      const r = group.readings[i]!;
      const device = group.devices[i]!;
      if (device.kind === 'soil') soil++;
      else acceptedBy(device.kind).inc();
      // A console-simulated LoRaWAN uplink tests the integration: stored, but no rule acts on it.
      if (deps.onReading && !r.simulated) {
        try {
          deps.onReading(r, device);
        } catch (error) {
          deps.logger.error({ err: error, device: device.id }, 'reading listener failed');
        }
      }
    }
    if (soil > 0) acceptedBy('soil').inc(soil);
  }

  function failed(group: Group, error: Error): void {
    group.settled = true;
    failedGroups++;
    if (filling === group) filling = undefined;
    flushCounters(); // a disk that fails every append must not stop the received counts
    // Not stored: let a retransmission through the dedup window, and fail the publishes.
    for (const r of group.readings) if (r.dedupKey !== undefined) dedup.forget(r.deviceId, r.dedupKey);
    for (const [key, ts] of group.assigned ?? []) {
      if (retryTs.size >= RETRY_TS_MAX) retryTs.delete(retryTs.keys().next().value!);
      retryTs.set(key, ts);
    }
    deps.logger.error({ err: error, readings: group.readings.length }, 'durable log append failed');
    for (const settle of group.settles) settle(error);
  }

  /** A duplicate is acknowledged as its original is: once the latest pending group is durable. */
  function settleDuplicate(settle: Settle | undefined, qos: number): void {
    if (!settle) return;
    const failuresBefore = failedGroups;
    // The original may have come at QoS 0, in a group written but not synced: a QoS 1 PUBACK
    // waits for a sync that covers it (it commits after every earlier group).
    const waitFor = qos > 0 && deps.syncPoint ? deps.syncPoint() : latest && !latest.settled ? latest.done : undefined;
    if (!waitFor) return settle();
    waitFor.then(
      () => settle(failedGroups === failuresBefore ? undefined : new Error('the original reading was not stored')),
      (error: unknown) => settle(error as Error),
    );
  }

  function submit(msg: IngestMessage, settle?: Settle): void {
    const receivedAt = clock.now();
    const topic = parse(msg.topic);
    if (!topic) {
      reject({ reason: 'topic_not_allowed', detail: `topic ${msg.topic} is not part of the contract` }, msg, msg.device?.id);
      return settle?.();
    }
    received[topic.format]++;
    if (msg.payload.length > limits.maxPayloadBytes) {
      reject({ reason: 'too_large', detail: `payload of ${msg.payload.length} bytes exceeds ${limits.maxPayloadBytes}` }, msg, msg.device?.id);
      return settle?.();
    }
    let items;
    try {
      items = decode(topic, msg.payload);
    } catch (error) {
      // A decoder bug must cost one counted rejection, not the publish: a thrown error
      // would close a QoS 1 sender's connection and have the same message redelivered forever.
      deps.logger.error({ err: error, topic: msg.topic }, 'decoder failed');
      reject({ reason: 'schema', detail: `the payload could not be decoded (${(error as Error).message})` }, msg, msg.device?.id);
      return settle?.();
    }
    // One reading is the common case: it is kept in variables, and arrays are made only for
    // a batch (two arrays and their backing stores were ~300 bytes of garbage a reading).
    let line: string | undefined;
    let lines: string[] | undefined;
    let accepted: AcceptedReading | undefined;
    let acceptedDevice: DeviceInfo | undefined;
    let more: { readings: AcceptedReading[]; devices: DeviceInfo[] } | undefined;
    let duplicates = 0;
    let assigned: Array<[string, number]> | undefined;
    for (const item of items) {
      if (!item.ok) {
        reject(item.error, msg, msg.device?.id);
        continue;
      }
      const { reading, deviceRef } = item.value;
      const device = resolveDevice(deviceRef, msg);
      // A network server speaks only for LoRaWAN devices (registered with a dev EUI): its
      // topics must never name a device that connects natively.
      if (device && reading.source !== 'native' && !device.devEui) {
        reject({ reason: 'unknown_device', detail: `device ${device.id} is not a LoRaWAN device (no dev EUI registered)` }, msg, device.id);
        continue;
      }
      if (!device || device.disabled) {
        const ref = deviceRef.by === 'id' ? `device ${deviceRef.id}` : `dev EUI ${deviceRef.devEui}`;
        reject({ reason: 'unknown_device', detail: `${ref} is ${device ? 'disabled' : 'not registered'}` }, msg, device?.id);
        continue;
      }
      const bound = checkApplicationBinding(topic, device);
      if (bound) {
        reject(bound, msg, device.id);
        continue;
      }
      // Without a device timestamp: the server's, the one it gave the same reading before
      // when that append failed (its resend is then the same point).
      let ts = reading.ts;
      let assignedKey: string | undefined;
      if (ts === undefined) {
        if (reading.dedupKey !== undefined) {
          assignedKey = `${device.id}\u0000${dedupKeyText(reading.dedupKey)}`;
          ts = retryTs.get(assignedKey);
          if (ts !== undefined) retryTs.delete(assignedKey);
        }
        ts ??= assignTs(device.id, receivedAt);
      }
      const refused = checkReading(reading.fields, device.kind, ts, receivedAt, limits);
      if (refused) {
        reject(refused, msg, device.id);
        continue;
      }
      if (reading.dedupKey !== undefined && dedup.seen(device.id, reading.dedupKey)) {
        duplicates++;
        reject({ reason: 'duplicate', detail: `reading ${dedupKeyText(reading.dedupKey)} of ${device.id} was already accepted` }, msg, device.id);
        continue;
      }
      const r: AcceptedReading = {
        deviceId: device.id, ts, dedupKey: reading.dedupKey, fields: reading.fields, source: reading.source, kind: device.kind, receivedAt,
      };
      if (reading.fCnt !== undefined) r.fCnt = reading.fCnt;
      if (reading.simulated) r.simulated = true;
      let tilt;
      if (device.kind === 'tilt' && r.fields.pitch !== undefined && r.fields.roll !== undefined) {
        const previous = lastTilt.get(device.id);
        tilt = deriveTilt(r.fields.pitch, r.fields.roll, device, previous);
        if (!previous || r.ts >= previous.ts) lastTilt.set(device.id, { pitch: r.fields.pitch, roll: r.fields.roll, ts: r.ts });
      }
      const point = toPoint(r, device, tilt);
      if (point !== undefined) {
        if (line === undefined) line = point;
        else (lines ??= [line]).push(point); // a store-and-forward batch
      }
      if (accepted === undefined) {
        accepted = r;
        acceptedDevice = device;
      } else {
        more ??= { readings: [], devices: [] };
        more.readings.push(r);
        more.devices.push(device);
      }
      if (assignedKey !== undefined) (assigned ??= []).push([assignedKey, ts]);
    }
    if (accepted === undefined) {
      // A duplicate's publish settles as its original's does, so the sender keeps the reading.
      return duplicates > 0 ? settleDuplicate(settle, msg.qos) : settle?.();
    }
    const stored = lines !== undefined || line !== undefined;
    const done = lines !== undefined ? deps.append(lines) : line !== undefined ? appendLine(line, msg.qos > 0) : Promise.resolve();
    const group = groupOf(done, stored);
    group.readings.push(accepted);
    group.devices.push(acceptedDevice!);
    if (more) {
      for (const r of more.readings) group.readings.push(r);
      for (const d of more.devices) group.devices.push(d);
    }
    if (assigned) (group.assigned ??= []).push(...assigned);
    if (!settle) return;
    // Accepted readings and duplicates in one batch: settled when both are.
    group.settles.push(duplicates > 0 ? (error) => (error ? settle(error) : settleDuplicate(settle, msg.qos)) : settle);
  }

  return {
    submit,
    /** `submit` as a promise (the external broker source and tests). */
    handle(msg: IngestMessage): Promise<void> {
      return new Promise<void>((resolve, reject) => submit(msg, (error) => (error ? reject(error) : resolve())));
    },
    /** `isReadingTopic` with this ingest's topic cache (the broker asks it for every publish). */
    isReadingTopic: (topic: string): boolean => carriesReadings(parse(topic)),
  };
}

function memo<V>(make: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) cache.set(key, (value = make(key)));
    return value;
  };
}
