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
export type DecodedItem = Result<{
  reading: Omit<NormalisedReading, 'deviceId'>;
  deviceRef: DeviceRef;
  /** A network server's decoded payload, mapped to `reading.fields` by the device's profile once the device is known. */
  decoded?: DecodedPayload;
  /** No decoded payload: why, as far as the message says (the device's recent codec errors may say more). */
  codec?: CodecOutcome;
}, Rejection>;
export interface DecodedPayload { object: Record<string, unknown>; path: string }
/** `failed`: a network server reported its codec threw (a ChirpStack log event); `missing`: an uplink came without decoded payload. */
export type CodecOutcome =
  | { kind: 'failed'; message: string; uplinkId: string | undefined }
  | { kind: 'missing'; detail: string; uplinkId: string | undefined; failedWith?: string }
  /** A network-server event that concerns no reading (a ChirpStack log of another code): accepted and dropped. */
  | { kind: 'ignored'; uplinkId: undefined };
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
