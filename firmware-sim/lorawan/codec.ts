import type { DeviceKind } from '../../contracts/reading.ts';

/**
 * What the network server's payload codec hands over as `object` / `decoded_payload`:
 * our native field names, or a vendor's (Milesight EM500-SMTC soil, EM320-TILT tilt).
 */
export const CODECS = ['native', 'milesight'] as const;
export type Codec = (typeof CODECS)[number];

const FIELD_ORDER = ['moisture', 'temperature', 'ec', 'pitch', 'roll', 'shock', 'state', 'flow', 'volume', 'battery', 'rainfall'];

export function decodedPayload(codec: Codec, kind: DeviceKind, reading: Record<string, unknown>): Record<string, unknown> {
  // Radio metadata and counters travel in the envelope, not in the application payload.
  const { ts: _ts, seq: _seq, rssi: _rssi, snr: _snr, ...fields } = reading;
  if (codec === 'native') return fields;
  if (kind === 'soil') {
    const { ec, ...rest } = fields;
    return { ...rest, ...(typeof ec === 'number' ? { ec: Math.round(ec * 1000) } : {}) }; // µS/cm
  }
  if (kind === 'tilt') {
    const { pitch, roll, shock, battery } = fields as Record<string, number | undefined>;
    const x = pitch ?? 0;
    const y = roll ?? 0;
    return {
      battery,
      angle_x: x,
      angle_y: y,
      angle_z: Math.round((90 - Math.hypot(x, y)) * 100) / 100,
      threshold_x: shock ? 'trigger' : 'normal',
      threshold_y: shock ? 'trigger' : 'normal',
      threshold_z: 'normal',
    };
  }
  return fields;
}

/** A compact binary frame: per field a key byte and an int32 of value × 100 (what the codec decodes). */
export function encodeFrame(reading: Record<string, unknown>): Buffer {
  const parts: Buffer[] = [];
  FIELD_ORDER.forEach((key, i) => {
    const v = reading[key];
    if (typeof v !== 'number') return;
    const b = Buffer.alloc(5);
    b.writeUInt8(i, 0);
    b.writeInt32BE(Math.round(v * 100), 1);
    parts.push(b);
  });
  return Buffer.concat(parts);
}
