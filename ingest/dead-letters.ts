import { z } from 'zod';
import type { Db } from '../registry/db.ts';
import type { Metrics } from '../lib/metrics.ts';
import { REJECT_REASONS, type RejectReason } from '../contracts/rejects.ts';
import { districtCondition } from '../registry/district-filter.ts';

export interface DeadLetter {
  at: number;
  reason: RejectReason;
  detail: string;
  deviceId: string | undefined;
  topic: string | undefined;
  payload: Buffer | string | undefined;
}

export const DeadLetterQuery = z.strictObject({
  reason: z.enum(REJECT_REASONS).optional(),
  device: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type DeadLetterQuery = z.infer<typeof DeadLetterQuery>;

const PAYLOAD_LIMIT = 1024;

/**
 * Every refusal, whether the ingest or InfluxDB refused it: counted by reason (the
 * rejection and the dead-letter counters) and kept in the store. One place, so the
 * two paths cannot count differently.
 */
export function recordRejection(metrics: Pick<Metrics, 'readingsRejected' | 'deadLetters'>, keep: (letter: DeadLetter) => void, letter: DeadLetter): void {
  metrics.readingsRejected.inc({ reason: letter.reason });
  metrics.deadLetters.inc({ reason: letter.reason });
  keep(letter);
}

export type DeadLetters = ReturnType<typeof createDeadLetterStore>;

/**
 * The bounded dead-letter store. Rejections are buffered and written in one
 * transaction per tick, so a device flooding garbage costs one insert batch, not one
 * disk sync per message; past `maxRows` the oldest rows go.
 */
export function createDeadLetterStore(db: Db, options: { maxRows: number; flushMs?: number; onError?: (error: unknown, rows: number) => void }) {
  let buffer: DeadLetter[] = [];
  let timer: NodeJS.Timeout | undefined;
  const insert = db.prepare('INSERT INTO dead_letters (at, reason, detail, device_id, topic, payload) VALUES (?, ?, ?, ?, ?, ?)');
  const prune = db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?');
  const writeAll = db.transaction((rows: DeadLetter[]) => {
    for (const r of rows) insert.run(r.at, r.reason, r.detail.slice(0, 2000), r.deviceId ?? null, r.topic ?? null, truncate(r.payload));
    prune.run(options.maxRows);
  });

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return;
    // In a flood, keep the newest rows only: the store is bounded anyway.
    const rows = buffer.length > options.maxRows ? buffer.slice(-options.maxRows) : buffer;
    buffer = [];
    try {
      writeAll(rows);
    } catch (error) {
      // Locked by another process past busy_timeout, or the disk is full: thrown from this
      // timer it would end the process. Keep the rows (the buffer is bounded above) and retry.
      options.onError?.(error, rows.length);
      buffer = rows.concat(buffer);
      timer ??= setTimeout(flush, options.flushMs ?? 200);
    }
  }

  return {
    add(letter: DeadLetter): void {
      buffer.push(letter);
      timer ??= setTimeout(flush, options.flushMs ?? 200);
    },
    flush,
    /** `districts`: only letters of devices placed in these (a confined caller); undefined = all. */
    query(q: DeadLetterQuery, districts?: readonly string[]) {
      flush();
      const where: string[] = [];
      const args: unknown[] = [];
      const scope = districtCondition('c.district_id', districts);
      if (scope) {
        // A device's district is its place's community's (as registry/devices.ts resolves it).
        where.push(`device_id IN (SELECT d.id FROM devices d LEFT JOIN zones z ON z.id = d.zone_id LEFT JOIN facilities f ON f.id = d.facility_id
          JOIN communities c ON c.id = COALESCE(z.community_id, f.community_id, d.community_id) WHERE ${scope.sql})`);
        args.push(...scope.args);
      }
      if (q.reason) { where.push('reason = ?'); args.push(q.reason); }
      if (q.device) { where.push('device_id = ?'); args.push(q.device); }
      if (q.since) { where.push('at >= ?'); args.push(Date.parse(q.since)); }
      if (q.until) { where.push('at <= ?'); args.push(Date.parse(q.until)); }
      const sql = `SELECT at, reason, detail, device_id, topic, payload FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...args, q.limit) as Array<{ at: number; reason: string; detail: string; device_id: string | null; topic: string | null; payload: string | null }>;
      return rows.map((r) => ({ at: new Date(r.at).toISOString(), reason: r.reason, detail: r.detail, device: r.device_id, topic: r.topic, payload: r.payload }));
    },
    close(): void {
      flush();
      if (timer) clearTimeout(timer); // a failed last flush does not retry against a closed database
      timer = undefined;
    },
  };
}

function truncate(payload: Buffer | string | undefined): string | null {
  if (payload === undefined) return null;
  const text = typeof payload === 'string' ? payload : payload.subarray(0, PAYLOAD_LIMIT * 4).toString('utf8');
  return text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT)}…(${typeof payload === 'string' ? payload.length : payload.length} bytes)` : text;
}
