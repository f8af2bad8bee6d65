import { describe, expect, it, inject } from 'vitest';
import { runReconnectStorm } from '../../../bench/reconnect-storm.ts';

// The bench's own function at a small N: a real app process started as `npm start` starts
// it, real generator processes. Timing is the bench's business (BENCHMARKS.md); this checks
// that every device it counts did connect, so the figure it prints means what it says.
describe('the reconnect-storm bench', { timeout: 180_000 }, () => {
  it('connects every registered device to a freshly started app, and the app holds them all', async () => {
    const result = await runReconnectStorm({ devices: 300, generators: 2, sources: 3, influxUrl: inject('influxUrl'), settleMs: 500 });
    expect(result).toMatchObject({ devices: 300, connected: 300, refused: 0, failed: 0, appOpenConnections: 300, errors: {} });
    expect(result.allConnectedMs).toBeGreaterThan(0);
    expect(result.peakRssMb).toBeGreaterThanOrEqual(result.rssBeforeMb);
    expect(result.appFds).toBeGreaterThan(300);
  });
});
