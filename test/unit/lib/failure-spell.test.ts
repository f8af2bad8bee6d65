import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { createFailureSpell } from '../../../lib/failure-spell.ts';

describe('a loop failing for a while is logged once per spell', () => {
  it('logs the first failure as an error, the repeats at debug, and the end of the spell once', () => {
    const lines: Array<{ level: number; msg: string; failures?: number }> = [];
    const logger = createLogger('debug', { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } });
    const spell = createFailureSpell(logger, 'tick failed', 'ticks work again');
    spell.succeeded(); // nothing failed: nothing to say
    for (let i = 0; i < 5; i++) spell.failed(new Error('connect ECONNREFUSED'));
    spell.succeeded();
    spell.succeeded();
    spell.failed(new Error('again'));
    expect(lines.map((l) => [l.level, l.msg, l.failures])).toEqual([
      [50, 'tick failed', undefined], [20, 'tick failed', 2], [20, 'tick failed', 3], [20, 'tick failed', 4], [20, 'tick failed', 5],
      [30, 'ticks work again', 5],
      [50, 'tick failed', undefined],
    ]);
  });
});
