import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from '../../../lib/logger.ts';

const collect = () => {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join('') };
};

describe('the logger', () => {
  it('is readable on a terminal and JSON everywhere else unless told', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('auto', undefined)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('writes one JSON object per line for machines', () => {
    const out = collect();
    createLogger('info', out.stream).child({ module: 'broker' }).info({ mqttPort: 1883 }, 'greenspace started');
    expect(JSON.parse(out.text())).toMatchObject({ level: 30, app: 'greenspace', module: 'broker', mqttPort: 1883, msg: 'greenspace started' });
  });

  it('writes a readable line for people, with the fields under it, synchronously', () => {
    const out = collect();
    const logger = createLogger('info', out.stream, 'pretty');
    logger.child({ module: 'broker' }).warn({ mqttPort: 1883 }, 'greenspace started');
    logger.debug('not at this level');
    const text = out.text();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: greenspace started\n/);
    expect(text).toContain('module: "broker"');
    expect(text).toContain('mqttPort: 1883');
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('not at this level');
  });
});
