import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../../lib/logger.ts';
import { startWateringSchedule } from '../../../irrigation/watering-schedule.ts';
import { eventually } from '../../helpers/app.ts';

describe('watering schedule (node-cron)', () => {
  it('ticks on its cron expression and survives a throwing tick', async () => {
    const logged: string[] = [];
    const logger = createLogger('info', new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } }));
    let ticks = 0;
    const schedule = startWateringSchedule({
      tick: () => {
        ticks += 1;
        if (ticks === 1) throw new Error('boom');
      },
      logger,
    }, '* * * * * *'); // every second (6-field)
    try {
      await eventually(() => (ticks >= 2 ? true : undefined), 5_000, 'two ticks');
    } finally {
      await schedule.stop();
    }
    expect(logged.some((l) => l.includes('"task":"watering-tick"') && l.includes('boom'))).toBe(true);
    const after = ticks;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(ticks).toBe(after); // stopped means stopped
  });
});
