import { KIND_FIELDS, valveState, type DeviceKind, type FieldKey, type ReadingFields } from '../contracts/reading.ts';
import {
  storeRange, TARGET_UNIT, UNIT_CONVERSIONS, UNIT_SPELLINGS,
  type DeviceProfile, type FieldRefusalReason, type ProfileTarget, type Unit,
} from '../contracts/device-profile.ts';
import { percentFromCurve, type BatteryCurve } from './battery.ts';

/**
 * A profile made ready for the hot path: its fields as a flat list with each range
 * resolved (the profile's, else the store's for the kind). Compiled once per profile.
 */
export interface CompiledProfile {
  id: string;
  kind: DeviceKind;
  entries: ReadonlyArray<{ target: ProfileTarget; from: readonly string[]; unit: Unit; range: readonly [number, number] }>;
  required: readonly ProfileTarget[];
  curve: BatteryCurve | undefined;
  history: DeviceProfile['history'];
  measurements: DeviceProfile['measurements'];
  source: DeviceProfile;
}

export function compileProfile(profile: DeviceProfile): CompiledProfile {
  const entries = [];
  for (const [target, spec] of Object.entries(profile.fields) as Array<[ProfileTarget, NonNullable<DeviceProfile['fields'][ProfileTarget]>]>) {
    const range = spec.range ?? storeRange(profile.kind, target);
    if (!range) continue; // the schema refuses this; a generic profile simply skips fields its kind lacks
    entries.push({ target, from: spec.from, unit: spec.unit, range });
  }
  return {
    id: profile.id,
    kind: profile.kind,
    entries,
    required: profile.required ?? KIND_FIELDS[profile.kind].required,
    curve: profile.battery?.curve,
    history: profile.history,
    measurements: profile.measurements,
    source: profile,
  };
}

/** One field of a reading that was dropped while the rest was kept. */
export interface FieldRefusal {
  field: ProfileTarget;
  /** The decoded key it came from. */
  key: string;
  reason: FieldRefusalReason;
  detail: string;
}

export interface MappedFields {
  fields: ReadingFields;
  /** Fields dropped: unparsable, in a unit that is not theirs, or outside their range. */
  refusals: FieldRefusal[];
  /** How many of the profile's decoded keys were present at all (0: the object is not a reading). */
  seen: number;
}

const NUMBER = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$/;

const preview = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[…]' : '{…}';
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

type Parsed = { ok: true; value: number } | { ok: false; reason: FieldRefusalReason; detail: string };

/** A decoded value in our unit: a number, a numeric string, or a string with its unit ("3.625 V"). */
export function parseValue(raw: unknown, target: ProfileTarget, unit: Unit): Parsed {
  if (unit === 'state') {
    const state = valveState.safeParse(raw);
    return state.success ? { ok: true, value: state.data } : { ok: false, reason: 'unparsable', detail: `expected open/closed, on/off, 1/0 or a boolean, got ${preview(raw)}` };
  }
  let value: number;
  let used: Unit = unit;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string') {
    const m = NUMBER.exec(raw);
    if (!m) return { ok: false, reason: 'unparsable', detail: `expected a number, a numeric string or a number with its unit, got ${preview(raw)}` };
    value = Number(m[1]);
    if (m[2] !== undefined) {
      const spelled = UNIT_SPELLINGS[m[2].toLowerCase()];
      if (!spelled || UNIT_CONVERSIONS[spelled].to !== TARGET_UNIT[target]) {
        return { ok: false, reason: 'unit', detail: `${preview(raw)} is not in a unit of ${target} (${TARGET_UNIT[target]})` };
      }
      used = spelled;
    }
  } else return { ok: false, reason: 'unparsable', detail: `expected a number, a numeric string or a number with its unit, got ${preview(raw)}` };
  if (!Number.isFinite(value)) return { ok: false, reason: 'unparsable', detail: `expected a finite number, got ${preview(raw)}` };
  const c: { factor: number; offset?: number } = UNIT_CONVERSIONS[used];
  return { ok: true, value: c.factor === 1 && c.offset === undefined ? value : round6((value + (c.offset ?? 0)) * c.factor) };
}

/** A key of the decoded object, dotted for nested ones (`sensor.ec`). */
function lookup(decoded: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(decoded, key)) return decoded[key];
  const dot = key.indexOf('.');
  if (dot < 0) return undefined;
  const head = decoded[key.slice(0, dot)];
  return typeof head === 'object' && head !== null && !Array.isArray(head) ? lookup(head as Record<string, unknown>, key.slice(dot + 1)) : undefined;
}

/**
 * Map one decoded object (an uplink's, or one history record's) to our fields by the
 * profile: the first alias present wins; null counts as absent (a sensor that did not
 * answer); a bad value drops that field alone. Battery percent comes from the voltage by
 * the profile's curve when the device gives no percent of its own.
 */
export function mapDecoded(object: Record<string, unknown>, profile: CompiledProfile): MappedFields {
  const decoded = profile.measurements ? withMeasurements(object, profile.measurements) : object;
  const fields: ReadingFields = {};
  const refusals: FieldRefusal[] = [];
  let seen = 0;
  for (const entry of profile.entries) {
    let key: string | undefined;
    let raw: unknown;
    for (const name of entry.from) {
      raw = lookup(decoded, name);
      if (raw !== null && raw !== undefined) {
        key = name;
        break;
      }
    }
    if (key === undefined) continue;
    seen++;
    const parsed = parseValue(raw, entry.target, entry.unit);
    if (!parsed.ok) {
      refusals.push({ field: entry.target, key, reason: parsed.reason, detail: `${key}: ${parsed.detail}` });
      continue;
    }
    const [low, high] = entry.range;
    if (parsed.value < low || parsed.value > high) {
      refusals.push({ field: entry.target, key, reason: 'out_of_range', detail: `${key}: ${parsed.value} ${TARGET_UNIT[entry.target]} is outside ${low}..${high}` });
      continue;
    }
    fields[entry.target as FieldKey] = parsed.value;
  }
  if (fields.battery === undefined && fields.batteryV !== undefined && profile.curve) fields.battery = percentFromCurve(fields.batteryV, profile.curve);
  return { fields, refusals, seen };
}

const MAX_MEASUREMENTS = 256;

/** The decoded object with its measurement list read into keys (contracts/device-profile.ts ProfileMeasurements). */
function withMeasurements(decoded: Record<string, unknown>, spec: NonNullable<DeviceProfile['measurements']>): Record<string, unknown> {
  const list = lookup(decoded, spec.path);
  if (!Array.isArray(list)) return decoded;
  const out: Record<string, unknown> = { ...decoded };
  let taken = 0;
  const take = (entries: unknown[], depth: number): void => {
    for (const entry of entries) {
      if (++taken > MAX_MEASUREMENTS) return;
      if (Array.isArray(entry)) {
        if (depth < 2) take(entry, depth + 1);
        continue;
      }
      if (typeof entry !== 'object' || entry === null) continue;
      const e = entry as Record<string, unknown>;
      const id = e[spec.id];
      if (typeof id === 'number' || typeof id === 'string') out[String(id)] = e[spec.value];
      else for (const [k, v] of Object.entries(e)) if (k !== 'type' && !Object.hasOwn(out, k)) out[k] = v;
    }
  };
  take(list, 0);
  return out;
}

/** The required fields a mapped reading lacks, with why each is missing; undefined when it has them all. */
export function describeMissing(mapped: MappedFields, profile: CompiledProfile, decoded: Record<string, unknown>, path: string): { reason: 'out_of_range' | 'schema'; detail: string } | undefined {
  const missing = profile.required.filter((k) => mapped.fields[k as FieldKey] === undefined);
  if (missing.length === 0) return undefined;
  const why = missing.map((target) => {
    const refused = mapped.refusals.find((r) => r.field === target);
    if (refused) return refused.detail;
    const from = profile.entries.find((e) => e.target === target)?.from ?? [];
    return `none of ${from.join(', ')} in ${path}`;
  });
  const keys = Object.keys(decoded);
  const saw = keys.length === 0 ? 'an empty object' : keys.slice(0, 8).join(', ') + (keys.length > 8 ? `, … (${keys.length} keys)` : '');
  const outOfRange = missing.some((t) => mapped.refusals.some((r) => r.field === t && r.reason === 'out_of_range'));
  return {
    reason: outOfRange ? 'out_of_range' : 'schema',
    detail: `a ${profile.kind} reading needs ${missing.join(', ')} (profile ${profile.id}): ${why.join('; ')}${mapped.seen === 0 ? ` (saw ${saw})` : ''}`,
  };
}

/** A history record's time in epoch ms, or why it has none. */
export function historyTime(record: Record<string, unknown>, history: NonNullable<DeviceProfile['history']>): number | string {
  const raw = lookup(record, history.time.key);
  if (history.time.format === 'iso') {
    const ms = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
    return Number.isFinite(ms) ? ms : `${history.time.key}: expected an ISO 8601 time, got ${preview(raw)}`;
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) return `${history.time.key}: expected epoch ${history.time.format === 'epoch_s' ? 'seconds' : 'milliseconds'}, got ${preview(raw)}`;
  return history.time.format === 'epoch_s' ? n * 1000 : n;
}
