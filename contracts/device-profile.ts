import { z } from 'zod';
import { COMMON_RANGES, DeviceKind, KIND_FIELDS, type FieldKey } from './reading.ts';

/**
 * A device profile: how one sensor model's decoded uplink (whatever its vendor's codec
 * calls things, in whatever units) maps to our reading fields. Profiles are data: the
 * shipped ones live in ingest/profiles/*.yaml, an operator adds more as YAML files in
 * GS_DEVICE_PROFILES_DIR, and a device names its profile in the inventory.
 */

/** Units a decoder may report a value in; each converts to exactly one of our fields' units. */
export const UNIT_CONVERSIONS = {
  '%': { to: '%', factor: 1 },
  '‰': { to: '%', factor: 0.1 },
  fraction: { to: '%', factor: 100 }, // 0..1 volumetric water content
  '°C': { to: '°C', factor: 1 },
  '°F': { to: '°C', factor: 5 / 9, offset: -32 }, // (F − 32) × 5/9
  'mS/cm': { to: 'mS/cm', factor: 1 },
  'dS/m': { to: 'mS/cm', factor: 1 },
  'uS/cm': { to: 'mS/cm', factor: 0.001 },
  'µS/cm': { to: 'mS/cm', factor: 0.001 },
  V: { to: 'V', factor: 1 },
  mV: { to: 'V', factor: 0.001 },
  '°': { to: '°', factor: 1 },
  g: { to: 'g', factor: 1 },
  dBm: { to: 'dBm', factor: 1 },
  dB: { to: 'dB', factor: 1 },
  'L/min': { to: 'L/min', factor: 1 },
  L: { to: 'L', factor: 1 },
  mm: { to: 'mm', factor: 1 },
  state: { to: 'state', factor: 1 }, // open/closed, on/off, 1/0, a boolean
} as const satisfies Record<string, { to: string; factor: number; offset?: number }>;
export type Unit = keyof typeof UNIT_CONVERSIONS;
export const Unit = z.enum(Object.keys(UNIT_CONVERSIONS) as [Unit, ...Unit[]]);

/** How a unit written after a number in a decoded string ("3.625 V", "21.5℃") is spelt, lower-cased. */
export const UNIT_SPELLINGS: Readonly<Record<string, Unit>> = {
  '%': '%', '%rh': '%', '‰': '‰', '°c': '°C', '℃': '°C', c: '°C', '°f': '°F', '℉': '°F', f: '°F',
  'ms/cm': 'mS/cm', 'ds/m': 'dS/m', 'us/cm': 'uS/cm', 'µs/cm': 'µS/cm', 'μs/cm': 'µS/cm', v: 'V', mv: 'mV',
  '°': '°', deg: '°', g: 'g', dbm: 'dBm', db: 'dB', 'l/min': 'L/min', l: 'L', mm: 'mm',
};

/** The fields a profile may fill: ours, plus `batteryV` (the raw cell voltage, kept as its own field). */
export const PROFILE_TARGETS = ['moisture', 'temperature', 'ec', 'battery', 'batteryV', 'pitch', 'roll', 'shock', 'state', 'flow', 'volume', 'rainfall', 'rssi', 'snr'] as const satisfies readonly FieldKey[];
export type ProfileTarget = (typeof PROFILE_TARGETS)[number];

/** Our unit for each target: a profile's unit must convert to it. */
export const TARGET_UNIT: Record<ProfileTarget, string> = {
  moisture: '%', temperature: '°C', ec: 'mS/cm', battery: '%', batteryV: 'V', pitch: '°', roll: '°', shock: 'g',
  state: 'state', flow: 'L/min', volume: 'L', rainfall: 'mm', rssi: 'dBm', snr: 'dB',
};

/** A decoded key; dotted for nested objects (`sensor.ec`). Plain text, bounded. */
const DecodedKey = z.string().regex(/^[^\s.][^\s]{0,63}$/, 'expected a decoded field name (no spaces, up to 64 characters)');

export const ProfileField = z.strictObject({
  /** The decoded names, across decoder versions; the first present (not null) wins. */
  from: z.array(DecodedKey).min(1).max(12),
  /** The unit the decoder reports in; a unit written in a string value ("3.625 V") overrides it. */
  unit: Unit,
  /** Physical range in our unit, within the store's own (contracts/reading.ts); a value outside is dropped and counted. */
  range: z.tuple([z.number(), z.number()]).optional(),
});
export type ProfileField = z.infer<typeof ProfileField>;

/** A piecewise-linear V → % table, voltages ascending (percent clamps past both ends). */
export const BatteryCurve = z.array(z.tuple([z.number().min(0).max(15), z.number().min(0).max(100)])).min(2).max(32)
  .refine((points) => points.every((p, i) => i === 0 || p[0] > points[i - 1]![0]), { message: 'voltages must ascend' })
  .refine((points) => points.every((p, i) => i === 0 || p[1] >= points[i - 1]![1]), { message: 'percent must not fall as voltage rises' });

export const ProfileBattery = z.strictObject({
  /** What the cells are (Li-SOCl2 ER18505, 2×AA alkaline, Li-ion 18650): why the curve is what it is. */
  chemistry: z.string().min(1).max(80),
  curve: BatteryCurve,
});

export const ProfileHistory = z.strictObject({
  /** The decoded key of the array of buffered records (each an object of the same fields). */
  path: DecodedKey,
  /** The record's key holding its time, and how it is written. */
  time: z.strictObject({ key: DecodedKey, format: z.enum(['epoch_s', 'epoch_ms', 'iso']) }),
  /** Records taken from one uplink; more are refused (dead-lettered) rather than stored. */
  max: z.number().int().min(1).max(256).default(64),
});

/**
 * Decoders that report a list of measurements instead of named keys (SenseCAP:
 * `messages: [{measurementId: 4103, measurementValue: 31.2}, {type: 'upload_battery', battery: 97}]`):
 * the list is read into keys first, each measurement under its id as text ("4103"), and the
 * other keys of an entry without an id as they are ("battery"). Nested lists are flattened.
 */
export const ProfileMeasurements = z.strictObject({ path: DecodedKey, id: DecodedKey, value: DecodedKey });

export const PROFILE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const DeviceProfile = z.strictObject({
  id: z.string().regex(PROFILE_ID, 'expected a profile id: lower-case letters, digits, . _ -'),
  vendor: z.string().min(1).max(80),
  model: z.string().min(1).max(80),
  kind: DeviceKind,
  /** The decoders this profile was written against: where to read them, which versions. */
  decoders: z.array(z.strictObject({ name: z.string().min(1).max(120), source: z.string().url().max(500).optional(), versions: z.array(z.string().min(1).max(40)).max(20).default([]) })).max(10).default([]),
  fields: z.partialRecord(z.enum(PROFILE_TARGETS), ProfileField),
  /** Fields a reading must have; defaults to the kind's (a soil reading needs moisture). */
  required: z.array(z.enum(PROFILE_TARGETS)).max(8).optional(),
  battery: ProfileBattery.optional(),
  history: ProfileHistory.optional(),
  measurements: ProfileMeasurements.optional(),
}).superRefine((p, ctx) => {
  for (const [target, spec] of Object.entries(p.fields) as Array<[ProfileTarget, ProfileField]>) {
    if (UNIT_CONVERSIONS[spec.unit].to !== TARGET_UNIT[target]) {
      ctx.addIssue({ code: 'custom', path: ['fields', target, 'unit'], message: `${spec.unit} does not convert to ${target}'s unit ${TARGET_UNIT[target]}` });
    }
    const store = storeRange(p.kind, target);
    if (!store) ctx.addIssue({ code: 'custom', path: ['fields', target], message: `not a field a ${p.kind} device reports` });
    else if (spec.range && (spec.range[0] > spec.range[1] || spec.range[0] < store[0] || spec.range[1] > store[1])) {
      ctx.addIssue({ code: 'custom', path: ['fields', target, 'range'], message: `expected a range within ${store[0]}..${store[1]} (the store's own), low first` });
    }
  }
  for (const [i, target] of (p.required ?? []).entries()) {
    if (!p.fields[target]) ctx.addIssue({ code: 'custom', path: ['required', i], message: `${target} is required but not mapped under fields` });
  }
  if (p.fields.batteryV && !p.battery && !p.fields.battery) {
    ctx.addIssue({ code: 'custom', path: ['battery'], message: 'a profile mapping batteryV needs a battery curve (chemistry and V → % table), or a battery percent field' });
  }
});
export type DeviceProfile = z.output<typeof DeviceProfile>;

/** The store's range for a field of this kind (volts for batteryV); undefined when the kind has no such field. */
export function storeRange(kind: DeviceKind, target: ProfileTarget): [number, number] | undefined {
  return KIND_FIELDS[kind].ranges[target as FieldKey] ?? COMMON_RANGES[target as FieldKey];
}

/** Why one field of a reading was dropped (the rest is stored): `gs_reading_fields_refused_total{reason}`. */
export const FIELD_REFUSALS = ['out_of_range', 'unparsable', 'unit'] as const;
export type FieldRefusalReason = (typeof FIELD_REFUSALS)[number];

/** A profile as the API lists it. */
export const DeviceProfileView = z.object({
  id: z.string(),
  vendor: z.string(),
  model: z.string(),
  kind: DeviceKind,
  origin: z.enum(['shipped', 'operator', 'builtin']),
  file: z.string().optional(),
  decoders: z.array(z.object({ name: z.string(), source: z.string().optional(), versions: z.array(z.string()) })),
  fields: z.record(z.string(), z.object({ from: z.array(z.string()), unit: z.string(), range: z.tuple([z.number(), z.number()]) })),
  required: z.array(z.string()),
  battery: z.object({ chemistry: z.string(), curve: z.array(z.tuple([z.number(), z.number()])) }).optional(),
  history: z.object({ path: z.string(), time: z.object({ key: z.string(), format: z.string() }), max: z.number() }).optional(),
  measurements: z.object({ path: z.string(), id: z.string(), value: z.string() }).optional(),
});
export type DeviceProfileView = z.infer<typeof DeviceProfileView>;
