import { describe, expect, it } from 'vitest';
import { COMMAND_WAIT_MS, createExecutor } from '../../../irrigation/executor.ts';
import { createLogger } from '../../../lib/logger.ts';
import type { IrrigationAction, DecideContext } from '../../../rules/irrigation/state.ts';

describe('valve commands while the shared store does not answer', () => {
  it('leave together after one wait, in decision order, not one wait apart each', async () => {
    const sent: Array<{ topic: string; at: number }> = [];
    const t0 = Date.now();
    const apply = createExecutor({
      store: { addDecision: async () => undefined, addSignal: async () => undefined },
      writes: { push: () => undefined },
      beforeCommand: () => new Promise<void>(() => undefined), // the store never answers
      publish: async (topic) => { sent.push({ topic, at: Date.now() - t0 }); },
      appendLines: async () => undefined,
      signal: () => undefined,
      logger: createLogger('silent'),
    });
    for (let i = 0; i < 3; i++) {
      const action = { type: 'command', valveId: `v-${i}`, command: { commandId: `c${i}`, action: 'close', issuedAt: 0 } } as unknown as IrrigationAction;
      apply(action, { zone: { id: `z-${i}` } } as unknown as DecideContext);
    }
    await apply.sent();
    expect(sent.map((s) => s.topic)).toEqual(['gs/v-0/down', 'gs/v-1/down', 'gs/v-2/down']);
    expect(Math.max(...sent.map((s) => s.at))).toBeLessThan(2 * COMMAND_WAIT_MS);
  }, 15_000);
});
