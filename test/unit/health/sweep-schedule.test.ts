import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { scheduleHealthSweep } from '../../../health/sweep-schedule.ts';
import { createLogger } from '../../../lib/logger.ts';

describe('health sweep schedule', () => {
  it('runs the sweep on its cron expression, and a throwing sweep is logged, not propagated', async () => {
    const lines: string[] = [];
    const logger = createLogger('error', new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
    let calls = 0;
    const task = scheduleHealthSweep({ logger, sweep: () => { calls += 1; if (calls === 2) throw new Error('registry gone'); } }, '*/30 * * * *');
    try {
      expect(task.getPattern()).toBe('*/30 * * * *');
      await task.execute();
      await task.execute();
      expect(calls).toBe(2);
      expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ module: 'health-sweep', task: 'health-sweep', msg: 'task failed' })]);
    } finally {
      await task.destroy();
    }
  });
});
