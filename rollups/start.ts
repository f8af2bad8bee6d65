import { Counter, Gauge, type Registry } from 'prom-client';
import { RETAINED_RAW, ROLLUP_RESOLUTIONS, type RollupResolution } from '../contracts/influx-schema.ts';
import type { InfluxHttp } from '../influx/http.ts';
import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { createRollupCursor } from './cursor.ts';
import { planRollup, retentionCutoff, type RollupStep } from './plan.ts';
import { WINDOWS_PER_STEP } from './query.ts';
import { queryRollupLines } from './roll.ts';

export interface RollupOptions {
  /** Raw points older than this many days are deleted once rolled up; 0 keeps them (GS_RAW_RETENTION_DAYS). */
  retentionDays: number;
  /** Time between runs. */
  intervalMs?: number;
  /** Steps per resolution in one run: a backlog is caught up this many steps a run. */
  maxStepsPerRun?: number;
  /** How long after a window ends its late points are waited for. */
  graceMs?: Partial<Record<RollupResolution, number>>;
  /** Start the timer (false in tests that call `runOnce`). */
  schedule?: boolean;
}

export interface RollupDeps {
  db: Db;
  influx: Pick<InfluxHttp, 'query'>;
  /** Where rollup points go: the durable log's append, so an outage after the query loses none. */
  append: (lines: string[]) => Promise<void>;
  /** When the oldest point still in the durable log was received (undefined when it is empty). */
  pendingSinceMs?: () => number | undefined;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  options: RollupOptions;
}

const RESOLUTIONS = Object.keys(ROLLUP_RESOLUTIONS) as RollupResolution[];
const DEFAULT_GRACE_MS: Record<RollupResolution, number> = { '1h': 5 * 60_000, '1d': 30 * 60_000 };
const DAY_MS = ROLLUP_RESOLUTIONS['1d'];
/** A first run with retention 0 rolls up this far back (what an upgrade finds). */
const FIRST_RUN_DAYS_WITHOUT_RETENTION = 400;
const RETENTION_RETRY_MS = 3_600_000;

/**
 * Hourly and daily rollups written by the app itself (no continuous queries or tasks:
 * portable across InfluxDB 1.x/2.x/3.x), and the raw retention. Each run rolls the
 * complete windows after the SQLite cursor, a bounded number of steps per resolution,
 * then deletes raw points past the retention that are already in the daily rollup.
 * A failed step leaves the cursor where it was: the next run tries it again.
 */
export function startRollups(deps: RollupDeps) {
  const log = deps.logger.child({ module: 'rollups' });
  const cursor = createRollupCursor(deps.db);
  const registers = [deps.registry];
  const windowsWritten = new Counter({ name: 'gs_rollup_windows_written_total', help: 'Rollup windows written, by resolution', labelNames: ['resolution'] as const, registers });
  const pointsWritten = new Counter({ name: 'gs_rollup_points_written_total', help: 'Rollup points appended to the durable log, by resolution', labelNames: ['resolution'] as const, registers });
  const failures = new Counter({ name: 'gs_rollup_failures_total', help: 'Rollup or retention runs that failed (retried at the next run), by stage', labelNames: ['stage'] as const, registers });
  const lag = new Gauge({ name: 'gs_rollup_lag_seconds', help: 'Now minus the end of the last window rolled up, by resolution', labelNames: ['resolution'] as const, registers });
  const options = { intervalMs: 60_000, maxStepsPerRun: 8, ...deps.options };
  const grace = { ...DEFAULT_GRACE_MS, ...options.graceMs };
  const firstDays = options.retentionDays > 0 ? options.retentionDays : FIRST_RUN_DAYS_WITHOUT_RETENTION;

  async function rollStep(step: RollupStep): Promise<void> {
    const lines = await queryRollupLines(deps.influx, step);
    if (lines.length > 0) await deps.append(lines);
    cursor.set(step.resolution, step.toMs);
    windowsWritten.inc({ resolution: step.resolution }, (step.toMs - step.fromMs) / ROLLUP_RESOLUTIONS[step.resolution]);
    pointsWritten.inc({ resolution: step.resolution }, lines.length);
  }

  async function rollResolution(resolution: RollupResolution, nowMs: number): Promise<number> {
    let steps = 0;
    for (; steps < options.maxStepsPerRun; steps++) {
      const step = planRollup({
        resolution, nowMs, doneUntilMs: cursor.get(resolution), firstMs: nowMs - firstDays * DAY_MS,
        graceMs: grace[resolution], pendingSinceMs: deps.pendingSinceMs?.(), maxWindows: WINDOWS_PER_STEP[resolution],
      });
      if (!step) break;
      await rollStep(step);
    }
    const done = cursor.get(resolution);
    if (done !== undefined) lag.set({ resolution }, Math.max(0, (nowMs - done) / 1000));
    return steps;
  }

  // The cutoff moves a day at a time: delete once per new cutoff. A server that refuses
  // DELETE (2.x's v1 API, 3.x) is asked again an hour later, not every run.
  let deletedBeforeMs: number | undefined;
  let retentionRetryAtMs = -Infinity;

  /** DELETE … WHERE time < cutoff on each raw measurement (InfluxQL; 1.x answers it, see rollups/README.md). */
  async function applyRetention(nowMs: number): Promise<number | undefined> {
    const cutoff = retentionCutoff({ nowMs, retentionDays: options.retentionDays, dailyDoneUntilMs: cursor.get('1d') });
    if (cutoff === undefined || (deletedBeforeMs !== undefined && cutoff <= deletedBeforeMs) || nowMs < retentionRetryAtMs) return undefined;
    try {
      for (const name of RETAINED_RAW) await deps.influx.query(`DELETE FROM "${name}" WHERE time < ${cutoff}ms`);
    } catch (error) {
      retentionRetryAtMs = nowMs + RETENTION_RETRY_MS;
      throw error;
    }
    deletedBeforeMs = cutoff;
    return cutoff;
  }

  /** One run: each resolution's steps, then the retention; each stage isolated, its failure logged and counted. */
  async function runOnce(): Promise<{ steps: Record<RollupResolution, number>; retainedFromMs: number | undefined }> {
    const nowMs = deps.clock.now();
    const steps = { '1h': 0, '1d': 0 } as Record<RollupResolution, number>;
    for (const resolution of RESOLUTIONS) {
      try {
        steps[resolution] = await rollResolution(resolution, nowMs);
      } catch (error) {
        failures.inc({ stage: `rollup_${resolution}` });
        log.warn({ err: error, resolution, doneUntilMs: cursor.get(resolution) }, 'rollup step failed; retried at the next run');
      }
    }
    let retainedFromMs: number | undefined;
    try {
      retainedFromMs = await applyRetention(nowMs);
    } catch (error) {
      failures.inc({ stage: 'retention' });
      log.warn({ err: error, retentionDays: options.retentionDays }, 'raw retention failed; tried again in an hour');
    }
    if (steps['1h'] + steps['1d'] > 0) log.info({ steps, retainedFromMs }, 'rollups written');
    return { steps, retainedFromMs };
  }

  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce().finally(schedule);
    }, options.intervalMs);
    timer.unref();
  }
  // The first run one interval after the start: a start (and a test's app) is not slowed by a catch-up.
  if (options.schedule !== false) schedule();

  return {
    runOnce,
    cursor: (resolution: RollupResolution): number | undefined => cursor.get(resolution),
    /** No new run; the one under way finishes (its cursor move is what makes it count). */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}

export type Rollups = ReturnType<typeof startRollups>;
