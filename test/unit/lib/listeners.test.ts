import { describe, expect, it } from 'vitest';
import { createListeners } from '../../../lib/listeners.ts';

describe('createListeners', () => {
  it('runs each listener in its own guard: a throw is reported by name and the next still runs', () => {
    const errors: Array<[string, string]> = [];
    const got: string[] = [];
    const set = createListeners<[number]>((name, error) => errors.push([name, (error as Error).message]));
    set.add('first', (n) => got.push(`first:${n}`));
    set.add('boom', () => { throw new Error('bad reading'); });
    set.add('last', (n) => got.push(`last:${n}`));
    set.emit(1);
    set.emit(2);
    expect(got).toEqual(['first:1', 'last:1', 'first:2', 'last:2']);
    expect(errors).toEqual([['boom', 'bad reading'], ['boom', 'bad reading']]);
  });

  it('ends a subscription with its unsubscribe, leaving the others', () => {
    const got: string[] = [];
    const set = createListeners<[string]>(() => undefined);
    const stopA = set.add('a', (s) => got.push(`a${s}`));
    set.add('b', (s) => got.push(`b${s}`));
    set.emit('1');
    stopA();
    stopA(); // twice is harmless
    set.emit('2');
    expect(got).toEqual(['a1', 'b1', 'b2']);
    expect(set.names()).toEqual(['b']);
  });

  it('lets a listener unsubscribe while the set is emitting without skipping the next one', () => {
    const got: string[] = [];
    const set = createListeners<[]>(() => undefined);
    const stop = set.add('once', () => { got.push('once'); stop(); });
    set.add('after', () => got.push('after'));
    set.emit();
    set.emit();
    expect(got).toEqual(['once', 'after', 'after']);
  });
});
