import type { ParsedTopic } from '../../contracts/topics.ts';
import type { NormalisedReading } from '../../contracts/reading.ts';
import type { Rejection } from '../../contracts/rejects.ts';
import type { Result } from '../../lib/result.ts';

/**
 * A decoder turns one MQTT message into readings. Pure: no clock, no I/O. Each
 * element is one reading or the reason it was refused, so one bad item of a batch
 * does not cost the others. `deviceRef` says how to find the device: by id (native,
 * TTS) or by dev EUI (LoRaWAN).
 */
export type DecodedItem = Result<{ reading: Omit<NormalisedReading, 'deviceId'>; deviceRef: DeviceRef }, Rejection>;
export type DeviceRef = { by: 'id'; id: string } | { by: 'devEui'; devEui: string; fallbackId?: string };
export type Decoder<T extends ParsedTopic['format']> = (topic: Extract<ParsedTopic, { format: T }>, payload: Buffer) => DecodedItem[];

export function parseJson(payload: Buffer): Result<unknown, Rejection> {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (error) {
    return { ok: false, error: { reason: 'malformed_json', detail: `payload is not JSON: ${(error as Error).message}` } };
  }
}

/** "moisture: expected a number" — the zod issue path joined, then the message. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, prefix = ''): string {
  return issues
    .slice(0, 5)
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}
