import { describe, expect, it } from 'vitest';
import { readInventoryFile } from '../../../inventory/files.ts';
import { evaluate } from '../../../evaluate/evaluate.ts';
import { createEventQueue } from '../../../evaluate/event-queue.ts';

/*
 * Issue 14's evaluation in small: the real engine against the simulator's soil, side by side
 * with both timers, on 48 zones of the city inventory spread over it, for a short drought.
 * The full month and season are figures in BENCHMARKS.md (npm run evaluate). 48 zones, not
 * 24: a zone whose two sensors read over a point high sits below its low all week while its
 * sensors say it is in band (no controller sees a calibration error without rain to show
 * field capacity), and in 24 zones one such zone is 4 % of the zone-hours; the drying learned
 * from the sensors' noise used to over-water it into band by chance (24 zones × 6 days: 95.8 %
 * then, 94.4 % with the drying learned from the FAO-56 prior, which the city's drought month
 * holds at 96.2 % against 95.9 %).
 */
describe('evaluation: the controller against the timers, in process on a simulated clock', () => {
  it('keeps the zones in band, better than both timers, on no more water than the peak timer, and says why it watered', async () => {
    const inv = readInventoryFile('inventory/examples/city.yaml', { infeasibleBands: 'warn' });
    if (!inv.ok) throw new Error(JSON.stringify(inv.error.slice(0, 3)));
    const e = await evaluate({ inventory: inv.value, scenario: 'drought', days: 5, zones: 48, seed: 14 });
    const { controller, 'peak-timer': peak, 'et-timer': et } = e.summary;
    expect(controller.zones).toBe(48);
    expect(controller.holdableInBandPct).toBeGreaterThanOrEqual(95);
    expect(controller.holdableInBandPct).toBeGreaterThan(peak.holdableInBandPct);
    expect(controller.inBandPct).toBeGreaterThan(peak.inBandPct);
    expect(controller.inBandPct).toBeGreaterThan(et.inBandPct);
    expect(controller.wiltingZoneHours).toBe(0);
    // Water: no more than the timer sized to this very drought's peak (5 days, seed 14: 0.89 ×);
    // the month and the season (≥ 30 % less than it, less than the ET timer) are in BENCHMARKS.md.
    expect(controller.waterL).toBeGreaterThan(0);
    expect(controller.waterL).toBeLessThanOrEqual(peak.waterL);
    const start = e.decisions.find((d) => d.action === 'start');
    expect(start?.inputs.why).toMatch(/^predicted .* at the next window .* min at \d+ L\/min ≈ \d+ L ≈ \+[\d.]+ points to [\d.]+ %/);
  }, 120_000);

  it('runs its queue in time order and honours cancelled timers', () => {
    const q = createEventQueue(0);
    const seen: string[] = [];
    q.timers.set(() => seen.push('b@20'), 20);
    const cancelled = q.timers.set(() => seen.push('never'), 5);
    q.at(10, () => { seen.push('a@10'); q.timers.defer(() => seen.push(`deferred@${q.now()}`)); });
    q.timers.clear(cancelled);
    q.runUntil(30);
    expect(seen).toEqual(['a@10', 'deferred@10', 'b@20']);
    expect(q.now()).toBe(30);
  });
});
