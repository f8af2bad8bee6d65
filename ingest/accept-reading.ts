import type { ParsedTopic } from '../contracts/topics.ts';
import { dedupKeyText, type AcceptedReading, type FieldKey } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Rejection } from '../contracts/rejects.ts';
import type { DecodedItem, DeviceRef } from './decoders/types.ts';
import { checkReading, type ValidationLimits } from './validate.ts';
import { createDedup } from './dedup.ts';
import { deriveTilt, toPoint } from './to-point.ts';
import { checkApplicationBinding } from './lorawan-binding.ts';
import type { IngestMessage } from './pipeline.ts';

export interface AcceptanceDeps {
  lookup: { get(id: string): DeviceInfo | undefined; getByDevEui(devEui: string): DeviceInfo | undefined };
  limits: ValidationLimits;
  /** Counts and dead-letters a refusal. */
  reject: (rejection: Rejection, msg: IngestMessage, deviceId: string | undefined) => void;
  /** A field out of its range, dropped while the rest of the reading is kept (native readings; profiles check their own). */
  dropField: (field: FieldKey, detail: string, msg: IngestMessage, device: DeviceInfo) => void;
  /** The fields a network server's reading must have: its device profile's (native readings: the kind's). */
  requiredFor?: (device: DeviceInfo) => readonly FieldKey[];
}

/**
 * One accepted item. A single object is reused from item to item (the hot path allocates
 * nothing per reading it can avoid): read its fields before accepting the next item.
 */
export interface Accepted {
  reading: AcceptedReading;
  device: DeviceInfo;
  /** Its line-protocol point; undefined when there is nothing to store (a gateway's reading). */
  point: string | undefined;
  /** Set when the server assigned its timestamp: `${device}\0${dedupKey}`, remembered should the append fail. */
  assignedKey: string | undefined;
}

/** The item was a retransmission of an accepted reading (counted and dead-lettered as such). */
export const DUPLICATE = 'duplicate';

/**
 * Per-item acceptance: device → binding → timestamp → validate → dedup → point. Each refusal
 * is handed to `reject` and the item dropped; the state it keeps (the dedup window, the
 * server-assigned timestamps, each tilt sensor's last angles) is per device.
 */
export function createAcceptance(deps: AcceptanceDeps) {
  const { limits, reject } = deps;
  const dedup = createDedup({ perDevice: 256, maxDevices: 200_000 });
  const lastAssignedTs = new Map<string, number>();
  const lastTilt = new Map<string, { pitch: number; roll: number; ts: number }>();
  // The timestamps the server gave readings whose append failed, for their resends. A failed
  // fdatasync leaves the written lines in the log (the shipper may already have sent them),
  // so a resend must be the same point (same series and time), not a second one. Bounded:
  // the oldest are forgotten first.
  const retryTs = new Map<string, number>();
  const RETRY_TS_MAX = 100_000;
  const out: Accepted = { reading: undefined!, device: undefined!, point: undefined, assignedKey: undefined };

  let dropMsg: IngestMessage | undefined;
  let dropDevice: DeviceInfo | undefined;
  // One closure for every reading: checkReading calls it only for a reading with a field out of range.
  const dropped = (field: FieldKey, detail: string): void => deps.dropField(field, detail, dropMsg!, dropDevice!);

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

  /** One decoded item of a message: accepted, a duplicate, or undefined when refused. */
  function accept(item: DecodedItem, topic: ParsedTopic, msg: IngestMessage, receivedAt: number): Accepted | typeof DUPLICATE | undefined {
    if (!item.ok) {
      reject(item.error, msg, msg.device?.id);
      return undefined;
    }
    const { reading, deviceRef } = item.value;
    const device = resolveDevice(deviceRef, msg);
    // A network server speaks only for LoRaWAN devices (registered with a dev EUI): its
    // topics must never name a device that connects natively.
    if (device && reading.source !== 'native' && !device.devEui) {
      reject({ reason: 'unknown_device', detail: `device ${device.id} is not a LoRaWAN device (no dev EUI registered)` }, msg, device.id);
      return undefined;
    }
    if (!device || device.disabled) {
      const ref = deviceRef.by === 'id' ? `device ${deviceRef.id}` : `dev EUI ${deviceRef.devEui}`;
      reject({ reason: 'unknown_device', detail: `${ref} is ${device ? 'disabled' : 'not registered'}` }, msg, device?.id);
      return undefined;
    }
    const bound = checkApplicationBinding(topic, device);
    if (bound) {
      reject(bound, msg, device.id);
      return undefined;
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
    dropMsg = msg;
    dropDevice = device;
    const required = reading.source !== 'native' && deps.requiredFor ? deps.requiredFor(device) : undefined;
    const refused = checkReading(reading.fields, device.kind, ts, receivedAt, limits, dropped, required);
    if (refused) {
      reject(refused, msg, device.id);
      return undefined;
    }
    if (reading.dedupKey !== undefined && dedup.seen(device.id, reading.dedupKey)) {
      reject({ reason: 'duplicate', detail: `reading ${dedupKeyText(reading.dedupKey)} of ${device.id} was already accepted` }, msg, device.id);
      return DUPLICATE;
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
    out.reading = r;
    out.device = device;
    out.point = toPoint(r, device, tilt);
    out.assignedKey = assignedKey;
    return out;
  }

  /** Readings whose append failed were not stored: let their retransmissions through, at the same time. */
  function forget(readings: readonly AcceptedReading[], assigned: ReadonlyArray<[string, number]> | undefined): void {
    for (const r of readings) if (r.dedupKey !== undefined) dedup.forget(r.deviceId, r.dedupKey);
    for (const [key, ts] of assigned ?? []) {
      if (retryTs.size >= RETRY_TS_MAX) retryTs.delete(retryTs.keys().next().value!);
      retryTs.set(key, ts);
    }
  }

  return { accept, forget, resolveDevice };
}
