import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { performAction, setOverrideAnswer, TAKING_OVER } from '../../../irrigation/operator-actions.ts';
import type { IrrigationEngine } from '../../../irrigation/engine.ts';

type Engine = Pick<IrrigationEngine, 'status' | 'isOwned' | 'adopting' | 'dispatch' | 'now'>;

/** An engine that owns z1 and records what it is asked to evaluate. */
const engine = (adopting: boolean) => {
  const dispatched: string[] = [];
  const e = {
    status: (zoneId: string) => (zoneId === 'z1' ? {} : undefined),
    isOwned: () => true,
    adopting: () => adopting,
    dispatch: (zoneId: string) => { dispatched.push(zoneId); return []; },
    now: () => 0,
  } as unknown as Engine;
  return { e, dispatched };
};

describe("an operator's action on a zone this node is taking over", () => {
  it('is answered 503 taking_over, not evaluated (it would be dropped and answered 202)', () => {
    const t = engine(true);
    expect(performAction(t.e, 'z1', 'water-now', { durationS: 60 }, 'op')).toEqual({ status: 503, body: TAKING_OVER });
    expect(t.dispatched).toEqual([]);
  });

  it('is evaluated once the state is read', () => {
    const t = engine(false);
    expect(performAction(t.e, 'z1', 'water-now', { durationS: 60 }, 'op').status).toBe(202);
    expect(t.dispatched).toEqual(['z1']);
  });
});

describe('the settings of a zone set by its owner for another node (a forwarded PUT)', () => {
  const owner = (fail: () => never) => ({
    status: () => ({ zone: { soil: 'loam' }, settings: { timezone: 'Asia/Shanghai' } }),
    setOverride: async () => fail(),
  }) as unknown as Pick<IrrigationEngine, 'status' | 'setOverride'>;

  it('answers 400 for settings the engine refuses', async () => {
    const answer = await setOverrideAnswer(owner(() => z.number().parse('x') as never), 'z1', { settings: { maxRunS: 120 } }, 'op');
    expect(answer.status).toBe(400);
  });

  it('does not answer a store failure 400 with its message (an internal address): it fails as it would on the owner itself', async () => {
    const failing = owner(() => { throw new Error('connect ECONNREFUSED 10.0.0.5:5432'); });
    await expect(setOverrideAnswer(failing, 'z1', { settings: { maxRunS: 120 } }, 'op')).rejects.toThrow('ECONNREFUSED');
  });
});
