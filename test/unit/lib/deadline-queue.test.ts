import { describe, expect, it } from 'vitest';
import { createDeadlineQueue } from '../../../lib/deadline-queue.ts';

describe('createDeadlineQueue', () => {
  it('gives what is due in time order, ties in insertion order, skipping cancelled entries', () => {
    const q = createDeadlineQueue();
    const got: string[] = [];
    for (const [at, name] of [[30, 'c'], [10, 'a1'], [20, 'b'], [10, 'a2'], [5, 'gone']] as const) {
      const e = q.add(at, () => got.push(name));
      if (name === 'gone') e.cancelled = true;
    }
    expect(q.nextAt()).toBe(10);
    for (let e = q.takeDue(20); e; e = q.takeDue(20)) e.fn();
    expect(got).toEqual(['a1', 'a2', 'b']);
    expect(q.nextAt()).toBe(30);
    expect(q.takeDue(29)).toBeUndefined();
    q.takeDue(30)!.fn();
    expect(got.at(-1)).toBe('c');
    expect(q.nextAt()).toBeUndefined();
  });
});
