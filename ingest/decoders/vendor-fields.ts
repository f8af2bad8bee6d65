import type { z } from 'zod';
import { numeric, valveState, type FieldKey, type ReadingFields } from '../../contracts/reading.ts';
import type { Rejection } from '../../contracts/rejects.ts';
import { err, ok, type Result } from '../../lib/result.ts';
import { batteryPercentFromVolts } from '../battery.ts';
import { describeIssues } from './types.ts';

/**
 * Decoded LoRaWAN payloads arrive with the field names and units of whatever codec
 * the device profile runs: the vendor's own, or one written for us. This table maps
 * them to our fields, in our units. Keys not listed are ignored (alarm flags, the
 * Dragino DS18B20 probe, the EM320 Z axis, ...), so a codec upgrade that adds keys
 * does not break the ingest.
 */

/**
 * How a soil sensor's `ec` is to be read. Our native contract says mS/cm; every
 * LoRaWAN soil-sensor codec we know (Milesight EM500-SMTC `ec`, Dragino LSE01
 * `conduct_SOIL`) reports µS/cm, and Milesight's key is spelled exactly like ours, so
 * the unit cannot be told from the name: the caller says which convention applies.
 */
export type EcUnit = 'uS/cm' | 'mS/cm';

interface FieldMapping {
  to: FieldKey;
  parse: z.ZodType<number, unknown>;
  /** What a valid value looks like, for the rejection detail (zod's union message is only "Invalid input"). */
  expected: string;
  convert?: (value: number) => number;
}

const msFromUs = (us: number): number => us / 1000;
const num = (to: FieldKey, convert?: (value: number) => number): FieldMapping => ({ to, parse: numeric, expected: 'a number or a numeric string', ...(convert ? { convert } : {}) });

/** Our own names: a codec written for this system emits these, and they win over any alias. */
const OUR_NAMES: Record<string, FieldMapping> = {
  moisture: num('moisture'),
  temperature: num('temperature'),
  battery: num('battery'),
  batteryV: num('battery', batteryPercentFromVolts),
  rssi: num('rssi'),
  snr: num('snr'),
  pitch: num('pitch'),
  roll: num('roll'),
  shock: num('shock'),
  state: { to: 'state', parse: valveState, expected: 'open/closed, on/off, 1/0 or a boolean' },
  flow: num('flow'),
  volume: num('volume'),
  rainfall: num('rainfall'),
};

/** Vendor names, used only where our own name did not already set the field. */
const VENDOR_NAMES: Record<string, FieldMapping> = {
  // Dragino LSE01 (soil): water_SOIL %, temp_SOIL °C, conduct_SOIL µS/cm. Dragino's
  // codec reports the battery as BatV; the TTN device repository's as Bat; both volts.
  water_SOIL: num('moisture'),
  temp_SOIL: num('temperature'),
  conduct_SOIL: num('ec', msFromUs),
  BatV: num('battery', batteryPercentFromVolts),
  Bat: num('battery', batteryPercentFromVolts),
  // Milesight EM320-TILT: X and Y axes against the horizontal; angle_z and the
  // threshold_* flags are the device's own alarm view, which our rules replace.
  angle_x: num('pitch'),
  angle_y: num('roll'),
};

const MAX_KEYS_SHOWN = 8;

const preview = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[…]' : '{…}'; // nested past the stack: still a schema rejection, not a crash
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

/**
 * Map a decoded object to our fields. A value of null counts as absent (codecs emit it
 * for a sensor that did not answer); a value of the wrong type is a schema rejection;
 * an object with none of our fields is a schema rejection listing the keys it had.
 * `path` names the object in rejection details (`object`, `uplink_message.decoded_payload`).
 */
export function mapDecodedFields(decoded: Record<string, unknown>, options: { ecUnit: EcUnit; path: string }): Result<ReadingFields, Rejection> {
  const fields: ReadingFields = {};
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  const ec: FieldMapping = options.ecUnit === 'uS/cm' ? num('ec', msFromUs) : num('ec');

  const apply = (table: Record<string, FieldMapping>, overwrite: boolean): void => {
    for (const [key, mapping] of Object.entries(table)) {
      if (!Object.hasOwn(decoded, key)) continue;
      const raw = decoded[key];
      if (raw === null || raw === undefined) continue;
      const parsed = mapping.parse.safeParse(raw);
      if (!parsed.success) {
        issues.push({ path: [key], message: `expected ${mapping.expected}, got ${preview(raw)}` });
        continue;
      }
      if (!overwrite && fields[mapping.to] !== undefined) continue;
      fields[mapping.to] = mapping.convert ? mapping.convert(parsed.data) : parsed.data;
    }
  };
  apply({ ...OUR_NAMES, ec }, true);
  apply(VENDOR_NAMES, false);

  if (issues.length > 0) return err({ reason: 'schema', detail: describeIssues(issues, options.path) });
  if (Object.keys(fields).length === 0) {
    const keys = Object.keys(decoded);
    const shown = keys.slice(0, MAX_KEYS_SHOWN).join(', ') + (keys.length > MAX_KEYS_SHOWN ? `, … (${keys.length} keys)` : '');
    return err({
      reason: 'schema',
      detail: `${options.path} has none of our fields (saw ${keys.length > 0 ? shown : 'an empty object'}); map them in the codec or add the vendor's names to ingest/decoders/vendor-fields.ts`,
    });
  }
  return ok(fields);
}

/** The gateway that heard the uplink best (highest RSSI, then SNR), for the reading's rssi/snr. */
export function pickBestGateway(gateways: ReadonlyArray<{ rssi: number | undefined; snr: number | undefined }>): { rssi: number; snr: number | undefined } | undefined {
  let best: { rssi: number; snr: number | undefined } | undefined;
  for (const g of gateways) {
    if (g.rssi === undefined) continue;
    if (!best || g.rssi > best.rssi || (g.rssi === best.rssi && (g.snr ?? -Infinity) > (best.snr ?? -Infinity))) best = { rssi: g.rssi, snr: g.snr };
  }
  return best;
}
