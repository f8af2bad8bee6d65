import { describe, expect, it } from 'vitest';
import { createFeatureRunner } from '../../../app/features.ts';
import { createLogger } from '../../../lib/logger.ts';

const logger = createLogger('silent');

describe('the feature runner', () => {
  it('stops the features in reverse order of their start, each in its own guard', async () => {
    const order: string[] = [];
    const runner = createFeatureRunner(logger);
    for (const name of ['store', 'log', 'broken-stop', 'api']) {
      await runner.start(name, () => ({
        stop: () => {
          order.push(name);
          if (name === 'broken-stop') throw new Error('stop failed');
        },
      }));
    }
    expect(runner.names()).toEqual(['store', 'log', 'broken-stop', 'api']);
    await runner.stopAll();
    expect(order).toEqual(['api', 'broken-stop', 'log', 'store']);
  });

  it('stops what already runs when a feature fails to start, and throws the error with the feature\'s name', async () => {
    const order: string[] = [];
    const runner = createFeatureRunner(logger);
    await runner.start('store', () => ({ stop: () => { order.push('store'); } }));
    await runner.start('influxdb', async () => ({ stop: async () => { order.push('influxdb'); } }));
    const failure = new Error('port in use');
    await expect(runner.start('api', () => { throw failure; })).rejects.toMatchObject({ code: 'feature_start_failed', feature: 'api', message: 'port in use', cause: failure });
    expect(order).toEqual(['influxdb', 'store']);
    await expect(runner.start('late', () => ({}))).rejects.toThrow(/after the app began to stop/);
  });

  it('gives each stop the options the app was stopped with, once however often stopAll is called', async () => {
    const seen: unknown[] = [];
    const runner = createFeatureRunner(logger);
    await runner.start('log', () => ({ stop: (options: { drainMs?: number }) => { seen.push(options.drainMs); } }));
    await Promise.all([runner.stopAll({ drainMs: 1_234 }), runner.stopAll({ drainMs: 5 })]);
    expect(seen).toEqual([1_234]);
  });
});
