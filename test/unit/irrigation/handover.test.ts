import { describe, expect, it } from 'vitest';
import { createHandover } from '../../../irrigation/handover.ts';
import { createLogger } from '../../../lib/logger.ts';
import type { ZoneIrrigationState } from '../../../rules/irrigation/state.ts';

const withRun = (id: string) => ({ zoneId: 'z1', run: { id, phase: 'watering' } }) as unknown as ZoneIrrigationState;

/** A handover whose store answers when the test says, recording what it dispatches and closes. */
function setup() {
  const states = new Map<string, ZoneIrrigationState>();
  const acted: string[] = [];
  let answer: (m: Map<string, ZoneIrrigationState>) => void = () => undefined;
  const handover = createHandover({
    states, overrides: new Map(), logger: createLogger('silent'), sharedStore: true,
    store: { loadStates: () => new Promise((resolve) => { answer = resolve; }), loadOverrides: async () => new Map() },
    writes: { settled: async () => undefined },
    flush: () => undefined, forget: () => undefined, clearWake: () => undefined,
    dispatch: (zoneId, event) => { acted.push(`${event.type} ${zoneId}`); return []; },
    closeValve: (zoneId) => { acted.push(`close ${zoneId}`); },
  });
  return { states, acted, handover, answer: (m: Map<string, ZoneIrrigationState>) => answer(m) };
}

describe('zones changing hands', () => {
  it('closes the run the previous owner left open when a zone is adopted', async () => {
    const t = setup();
    const adopted = t.handover.adopt(['z1']);
    await new Promise((r) => setImmediate(r));
    t.answer(new Map([['z1', withRun('theirs')]]));
    await adopted;
    expect(t.acted).toEqual(['restored z1']);
    expect(t.states.get('z1')?.run?.id).toBe('theirs');
  });

  it('a zone given up again while its state is read: neither the stale run here nor the one read is acted on', async () => {
    const t = setup();
    t.states.set('z1', withRun('stale, from before this node last lost it'));
    const adopted = t.handover.adopt(['z1']);
    await new Promise((r) => setImmediate(r));
    t.handover.release(['z1']);
    t.answer(new Map([['z1', withRun('the owner now')]]));
    await adopted;
    expect(t.acted).toEqual([]);
  });
});
