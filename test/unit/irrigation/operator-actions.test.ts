import { describe, expect, it } from 'vitest';
import { performAction, TAKING_OVER } from '../../../irrigation/operator-actions.ts';
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
