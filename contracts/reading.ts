import { z } from 'zod';

export const DEVICE_KINDS = ['soil', 'tilt', 'valve', 'rain', 'gateway'] as const;
export const DeviceKind = z.enum(DEVICE_KINDS);
export type DeviceKind = z.infer<typeof DeviceKind>;

/**
 * A number, or a string holding one: some vendor decoders (Dragino's, for one) emit
 * `toFixed()` strings. Anything else (NaN, "", "abc", Infinity) is refused.
 */
export const numeric = z
  .union([z.number(), z.string().trim().regex(/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, 'not a number').transform(Number)])
  .pipe(z.number().finite());

/** A valve state as devices spell it, normalised to 1 (open) / 0 (closed). */
export const valveState = z
  .union([
    z.literal(0), z.literal(1), z.boolean(),
    z.enum(['open', 'closed', 'on', 'off', 'OPEN', 'CLOSED', 'ON', 'OFF', '0', '1']),
  ])
  .transform((v) => (v === true || v === 1 || v === '1' || /^(open|on)$/i.test(String(v)) ? 1 : 0));

/** The measured values a reading may carry, in our units. */
export const ReadingFields = z.object({
  moisture: z.number(), // % volumetric water content
  temperature: z.number(), // °C (soil)
  ec: z.number(), // mS/cm
  battery: z.number(), // %
  batteryV: z.number(), // V, the cell voltage as the device measured it (battery % is derived from it by the profile's curve)
  rssi: z.number(), // dBm
  snr: z.number(), // dB
  pitch: z.number(), // degrees
  roll: z.number(), // degrees
  shock: z.number(), // g
  state: z.number(), // 1 open, 0 closed
  flow: z.number(), // L/min
  volume: z.number(), // L
  rainfall: z.number(), // mm since the previous report
}).partial();
export type ReadingFields = z.infer<typeof ReadingFields>;
export type FieldKey = keyof ReadingFields;

/**
 * What tells a retransmission from a new reading. A network server's id (ChirpStack's
 * `deduplicationId`) is text. A device counter (native `seq`: 's', LoRaWAN `f_cnt`: 'f')
 * comes with the reading's time, because counters restart (a reboot, a rejoin); the pair
 * stays numbers so the ingest can check it without printing them (ingest/dedup.ts).
 */
export type DedupKey = string | { counter: 's' | 'f'; n: number; ts: number };

/** The key as text (`s12@1764151200000`): for messages and maps keyed by text. */
export const dedupKeyText = (key: DedupKey): string => (typeof key === 'string' ? key : `${key.counter}${key.n}@${key.ts}`);

/** What every decoder produces, whatever the wire format. */
export interface NormalisedReading {
  deviceId: string;
  /** Epoch ms; undefined when the device sent none (validation then uses receive time). */
  ts: number | undefined;
  /** Identifies a retransmission: native `seq`, LoRaWAN `fCnt`, ChirpStack `deduplicationId`. */
  dedupKey: DedupKey | undefined;
  fields: ReadingFields;
  source: 'native' | 'chirpstack' | 'tts';
  /** LoRaWAN uplink frame counter, kept so device health can see lost frames (gaps). */
  fCnt?: number;
  /** The Things Stack console-simulated uplink: accepted, but not a measurement. */
  simulated?: boolean;
}

/** A reading that passed validation: timestamp settled, fields in range for its kind. */
export interface AcceptedReading extends NormalisedReading {
  ts: number;
  kind: DeviceKind;
  receivedAt: number;
}

/** Which fields each kind may report, with physical limits; the first listed are required. */
export const KIND_FIELDS: Record<DeviceKind, { required: FieldKey[]; ranges: Partial<Record<FieldKey, [number, number]>> }> = {
  soil: {
    required: ['moisture'],
    ranges: { moisture: [0, 100], temperature: [-40, 80], ec: [0, 20] },
  },
  tilt: {
    required: ['pitch', 'roll'],
    ranges: { pitch: [-180, 180], roll: [-180, 180], shock: [0, 400] },
  },
  valve: {
    required: ['state'],
    ranges: { state: [0, 1], flow: [0, 2000], volume: [0, 1e9] },
  },
  rain: {
    required: ['rainfall'],
    ranges: { rainfall: [0, 500] },
  },
  gateway: { required: [], ranges: {} },
};

/** Fields any kind may carry: power and radio. */
export const COMMON_RANGES: Partial<Record<FieldKey, [number, number]>> = {
  battery: [0, 100],
  // 0 (dead) to 15 V (a four-cell pack): more is a decoding error, not a battery.
  batteryV: [0, 15],
  rssi: [-200, 0],
  snr: [-40, 40],
};
