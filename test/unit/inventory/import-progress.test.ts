import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createImportProgress } from '../../../inventory/import-progress.ts';

/** A stream that says it is a terminal, as cli-progress checks, collecting what is drawn. */
function terminal() {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  return { stream, text: () => text };
}

describe('the CLI import\'s progress', () => {
  it('draws each phase, secrets counted, on a terminal', () => {
    const out = terminal();
    const progress = createImportProgress({ tty: true, stream: out.stream });
    progress.step('reading');
    progress.step({ phase: 'hashing', done: 2318, total: 2318 });
    progress.stop();
    expect(out.text()).toContain('reading the file');
    expect(progress.drawn).toBe(true);
  });

  it('draws nothing when stdout is not a terminal', () => {
    const out = terminal();
    const progress = createImportProgress({ tty: false, stream: out.stream });
    progress.step('reading');
    progress.step({ phase: 'hashing', done: 1, total: 2 });
    progress.stop();
    expect(out.text()).toBe('');
    expect(progress.drawn).toBe(false);
  });
});
