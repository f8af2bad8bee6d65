import { parseTopic, type ParsedTopic } from '../contracts/topics.ts';
import type { AcceptedReading, FieldKey } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { decode } from './decode.ts';
import type { ValidationLimits } from './validate.ts';
import type { DeadLetter } from './dead-letters.ts';
import { createRefusals } from './refusals.ts';
import { createAcceptance, DUPLICATE } from './accept-reading.ts';
import { createDecodedAcceptance } from './accept-decoded.ts';
import { createProfileSet, type ProfileSet } from './profile-set.ts';
import type { DecodedItem } from './decoders/types.ts';
import { createGroupCommit, type Group, type Settle } from './group-commit.ts';
import { createIngestCounters } from './ingest-counters.ts';
import { carriesReadings, createTopicCache } from './topic-cache.ts';
import { createClaimStep, type SharedDedup } from './shared-dedup.ts';

export type { Settle } from './group-commit.ts';

export interface IngestMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** The authenticated device, when a device published (native topics); undefined for services. */
  device?: DeviceInfo | undefined;
}

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
  /** The device profiles in force (ingest/profile-set.ts); default: the generic field names only. */
  profiles?: ProfileSet;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  limits: ValidationLimits & { maxPayloadBytes: number };
  /** Clustered mode: the duplicate filter the nodes share (shared-dedup.ts); none for one process. */
  shared?: SharedDedup;
}

export type Ingest = ReturnType<typeof createIngest>;

/** Does this topic carry readings (as opposed to status, acks, other LoRaWAN events)? */
export function isReadingTopic(topic: string): boolean {
  return carriesReadings(parseTopic(topic));
}

/**
 * The publish path for readings: size → topic → decode → device → timestamp → validate →
 * dedup → point → durable append. Every refusal is counted and dead-lettered. `submit` is
 * synchronous up to the append and allocates one promise per group commit, not per message:
 * each message's `settle` runs when its points are durable (the broker holds a QoS 1 PUBACK
 * until then), with an error only when the local disk failed.
 */
export function createIngest(deps: IngestDeps) {
  const { clock, limits } = deps;
  const appendLine = deps.appendLine ?? ((line: string) => deps.append([line]));
  const parse = createTopicCache();
  const counters = createIngestCounters(deps.metrics);
  const received = counters.received;
  const { reject, refuseField, codecFailed } = createRefusals(deps, counters.flush);
  const profiles = deps.profiles ?? createProfileSet([]);
  const acceptance = createAcceptance({
    lookup: deps.lookup, limits, reject,
    dropField: (field, detail, msg, device) => refuseField('native', { field, key: field, reason: 'out_of_range', detail }, msg, device.id),
    requiredFor: (device) => profiles.forDevice(device).required as readonly FieldKey[],
  });
  const decoded = createDecodedAcceptance({
    profiles, reject, refuseField, codecFailed,
    resolve: (value, msg) => acceptance.resolveDevice(value.deviceRef, msg),
    countCodecFailure: (format) => deps.metrics.codecErrors.inc({ format }),
  });
  const durable = (group: Group): void => { if (group.claimed) deps.shared?.stored(group.claimed); handOn(group, counters, deps); };
  const groups = createGroupCommit({ syncPoint: deps.syncPoint, flushCounters: counters.flush, durable, notStored });
  const claimThenAccept = deps.shared && createClaimStep({ shared: deps.shared, reject, metrics: deps.metrics, logger: deps.logger, accept: (...args) => acceptItems(...args) });

  /** Not stored: let a retransmission through the dedup window, and fail the publishes. */
  function notStored(group: Group, error: Error): void {
    acceptance.forget(group.readings, group.assigned);
    if (group.claimed) deps.shared?.release(group.claimed);
    deps.logger.error({ err: error, readings: group.readings.length }, 'durable log append failed');
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
    (claimThenAccept ?? acceptItems)(items, topic, msg, receivedAt, settle); // clustered: claimed across nodes first (shared-dedup.ts)
  }

  function acceptItems(items: DecodedItem[], topic: ParsedTopic, msg: IngestMessage, receivedAt: number, settle: Settle | undefined, shared?: { duplicates: number; claimed: string[] }): void {
    // One reading is the common case: it is kept in variables, and arrays are made only for
    // a batch (two arrays and their backing stores were ~300 bytes of garbage a reading).
    let line: string | undefined;
    let lines: string[] | undefined;
    let accepted: AcceptedReading | undefined;
    let acceptedDevice: DeviceInfo | undefined;
    let more: { readings: AcceptedReading[]; devices: DeviceInfo[] } | undefined;
    let duplicates = shared?.duplicates ?? 0;
    let assigned: Array<[string, number]> | undefined;
    let expanded: DecodedItem[] | undefined;
    for (let i = 0; i < items.length || (expanded !== undefined && expanded.length > 0); i++) {
      // A network server's decoded payload becomes its reading and history records once the
      // device (and so its profile) is known; they are accepted after the message's own items.
      let item = i < items.length ? items[i]! : expanded!.shift()!;
      if (item.ok && (item.value.decoded !== undefined || item.value.codec !== undefined)) {
        const mapped = decoded.expand(item, topic, msg, receivedAt);
        if (mapped.length === 0) continue;
        item = mapped[0]!;
        if (mapped.length > 1) (expanded ??= []).push(...mapped.slice(1));
      }
      const a = acceptance.accept(item, topic, msg, receivedAt);
      if (a === undefined) continue;
      if (a === DUPLICATE) {
        duplicates++;
        continue;
      }
      const { reading: r, device, point, assignedKey } = a;
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
      if (assignedKey !== undefined) (assigned ??= []).push([assignedKey, r.ts]);
    }
    if (accepted === undefined) {
      if (shared && shared.claimed.length > 0) deps.shared!.release(shared.claimed); // refused here: not ours to hold
      // A duplicate's publish settles as its original's does, so the sender keeps the reading.
      return duplicates > 0 ? groups.settleDuplicate(settle, msg.qos) : settle?.();
    }
    const stored = lines !== undefined || line !== undefined;
    const done = lines !== undefined ? deps.append(lines) : line !== undefined ? appendLine(line, msg.qos > 0) : Promise.resolve();
    const group = groups.groupOf(done, stored);
    fillGroup(group, accepted, acceptedDevice!, more, assigned, shared?.claimed);
    if (!settle) return;
    // Accepted readings and duplicates in one batch: settled when both are.
    group.settles.push(duplicates > 0 ? (error) => (error ? settle(error) : groups.settleDuplicate(settle, msg.qos)) : settle);
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

/** Add a message's accepted readings to its group, with what a failed append must undo (assigned timestamps, shared claims). */
function fillGroup(group: Group, first: AcceptedReading, device: DeviceInfo, more: { readings: AcceptedReading[]; devices: DeviceInfo[] } | undefined, assigned: Array<[string, number]> | undefined, claimed: string[] | undefined): void {
  group.readings.push(first);
  group.devices.push(device);
  if (more) {
    for (const r of more.readings) group.readings.push(r);
    for (const d of more.devices) group.devices.push(d);
  }
  if (assigned) (group.assigned ??= []).push(...assigned);
  // A claimed reading refused here (invalid) stays claimed until the group settles; then released or stored with it.
  if (claimed && claimed.length > 0) (group.claimed ??= []).push(...claimed);
}

/** A group is on disk: its readings are counted and handed to the rules (a throwing listener is logged, not the commit's problem). */
function handOn(group: Group, counters: ReturnType<typeof createIngestCounters>, deps: IngestDeps): void {
  let soil = 0;
  for (let i = 0; i < group.readings.length; i++) {
    const r = group.readings[i]!;
    const device = group.devices[i]!;
    if (device.kind === 'soil') soil++;
    else counters.acceptedBy(device.kind).inc();
    // A console-simulated LoRaWAN uplink tests the integration: stored, but no rule acts on it.
    if (deps.onReading && !r.simulated) {
      try {
        deps.onReading(r, device);
      } catch (error) {
        deps.logger.error({ err: error, device: device.id }, 'reading listener failed');
      }
    }
  }
  if (soil > 0) counters.acceptedBy('soil').inc(soil);
}
