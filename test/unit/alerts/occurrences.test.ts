import { describe, expect, it } from 'vitest';
import { ENGINES, useLedgers, raise, T0, MIN } from './helpers.ts';
import { currentDetails } from '../../../contracts/alert.ts';

const impact = (deltaDeg: number, shockG: number, at: number) => ({
  ...raise('facility_impact', 'pav-7', 'warning', `凉亭 pav-7 受撞击：倾角突变 ${deltaDeg}°，冲击 ${shockG} g / pavilion pav-7: impact (${deltaDeg}° change, ${shockG} g shock)`),
  details: { deltaDeg, shockG }, at,
});

describe.each(ENGINES)('repeated occurrences of one alert (%s)', (engine) => {
  const createLedger = useLedgers(engine);

  it('keeps the first occurrence\'s measured values (what the message states) and the latest, and counts the rest', async () => {
    const { alerts } = await createLedger();
    await alerts.apply(impact(6, 5, T0));
    await alerts.apply(impact(2.5, 3, T0 + MIN));
    const a = (await alerts.apply(impact(3.5, 4, T0 + 2 * MIN)))!;
    expect(a.message).toBe('凉亭 pav-7 受撞击：倾角突变 6°，冲击 5 g / pavilion pav-7: impact (6° change, 5 g shock)');
    expect(a.details).toMatchObject({
      deltaDeg: 6, shockG: 5, occurrences: 3,
      latest: { deltaDeg: 3.5, shockG: 4, at: T0 + 2 * MIN, message: '凉亭 pav-7 受撞击：倾角突变 3.5°，冲击 4 g / pavilion pav-7: impact (3.5° change, 4 g shock)' },
    });
    expect(currentDetails(a.details)).toMatchObject({ deltaDeg: 3.5, shockG: 4 });
  });

  it('keeps the first values when a worse occurrence raises the severity', async () => {
    const { alerts } = await createLedger();
    await alerts.apply(impact(6, 5, T0));
    const a = (await alerts.apply({ ...impact(14, 12, T0 + MIN), severity: 'critical' }))!;
    expect(a.severity).toBe('critical');
    expect(a.details).toMatchObject({ deltaDeg: 6, shockG: 5, occurrences: 2, latest: { deltaDeg: 14, shockG: 12 } });
  });

  it('a single occurrence has no `latest`', async () => {
    const { alerts } = await createLedger();
    const a = (await alerts.apply(impact(6, 5, T0)))!;
    expect(a.details).toEqual({ deltaDeg: 6, shockG: 5 });
    expect(currentDetails(a.details)).toEqual({ deltaDeg: 6, shockG: 5 });
  });
});
