import { describe, expect, it } from 'vitest';
import { planImport, type CurrentRows } from '../../../inventory/plan.ts';
import { TABLE_NAMES, type DesiredRows, type Row } from '../../../inventory/tables.ts';

const empty = (): CurrentRows => Object.fromEntries(TABLE_NAMES.map((t) => [t, []])) as unknown as CurrentRows;
const zone = (over: Row = {}): Row => ({
  id: 'z1', community_id: 'c1', name: 'lawn', plant: 'lawn', mode: 'automatic', soil: 'loam',
  moisture_low: null, moisture_high: null, valve_id: 'v1', windows: null, retired_at: null, ...over,
});
const facility = (over: Row = {}): Row => ({
  id: 'f1', community_id: 'c1', name: 'pavilion', type: 'pavilion', lat: null, lon: null, location: 'gate',
  baseline_pitch: 0.5, baseline_roll: -0.5, tilt_warning_deg: null, tilt_critical_deg: null, retired_at: null, ...over,
});
const state = (rows: Partial<Record<keyof DesiredRows, Row[]>>): CurrentRows => ({ ...empty(), ...rows });
const steps = (current: CurrentRows, desired: DesiredRows, prune = false) =>
  planImport(current, desired, { prune }).flatMap((p) => [
    ...p.inserts.map((r) => ['insert', p.spec.table, r.id]),
    ...p.updates.map((u) => ['update', p.spec.table, u.row.id, u.columns.join(',')]),
    ...p.retires.map((r) => ['retire', p.spec.table, r.id]),
    ...p.deletes.map((r) => ['delete', p.spec.table, r.id ?? `${r.team_id}/${r.community_id}`]),
  ]);

describe('planImport: the steps from the registry to the file', () => {
  it.each([
    { name: 'same rows plan nothing', current: state({ zones: [zone()] }), desired: state({ zones: [zone()] }), expected: [] },
    { name: 'a new row is inserted', current: empty(), desired: state({ zones: [zone()] }), expected: [['insert', 'zones', 'z1']] },
    { name: 'one changed column is one update naming it', current: state({ zones: [zone()] }), desired: state({ zones: [zone({ plant: 'trees' })] }), expected: [['update', 'zones', 'z1', 'plant']] },
    { name: 'a band override set on a zone', current: state({ zones: [zone()] }), desired: state({ zones: [zone({ moisture_low: 15, moisture_high: 30 })] }), expected: [['update', 'zones', 'z1', 'moisture_low,moisture_high']] },
    { name: 'a missing row is retired', current: state({ zones: [zone()] }), desired: empty(), expected: [['retire', 'zones', 'z1']] },
    { name: 'an already retired row stays as it is', current: state({ zones: [zone({ retired_at: '2026-01-01T00:00:00.000Z' })] }), desired: empty(), expected: [] },
    { name: 'a retired row listed again comes back', current: state({ zones: [zone({ retired_at: '2026-01-01T00:00:00.000Z' })] }), desired: state({ zones: [zone()] }), expected: [['update', 'zones', 'z1', 'retired_at']] },
    { name: 'an omitted baseline keeps the calibrated one', current: state({ facilities: [facility()] }), desired: state({ facilities: [facility({ baseline_pitch: undefined, baseline_roll: undefined })] }), expected: [] },
    { name: 'a baseline given in the file wins', current: state({ facilities: [facility()] }), desired: state({ facilities: [facility({ baseline_pitch: 1 })] }), expected: [['update', 'facilities', 'f1', 'baseline_pitch']] },
    { name: 'a link row not listed is deleted', current: state({ team_communities: [{ team_id: 't1', community_id: 'c1' }] }), desired: empty(), expected: [['delete', 'team_communities', 't1/c1']] },
  ])('$name', ({ current, desired, expected }) => {
    expect(steps(current, desired)).toEqual(expected);
  });

  it('with prune, missing rows are deleted, retired ones too', () => {
    const current = state({ zones: [zone(), zone({ id: 'z2', retired_at: '2026-01-01T00:00:00.000Z' })] });
    expect(steps(current, empty(), true)).toEqual([['delete', 'zones', 'z1'], ['delete', 'zones', 'z2']]);
  });
});
