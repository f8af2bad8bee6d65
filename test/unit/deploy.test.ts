import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const unit = readFileSync(join(ROOT, 'deploy', 'greenspace.service'), 'utf8');
const settings = new Map<string, string[]>();
for (const line of unit.split('\n')) {
  const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
  if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
}
const one = (key: string): string | undefined => settings.get(key)?.at(-1);
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('the systemd unit', () => {
  it('runs the compiled build as npm run start:prod does, as its own user', () => {
    const prod = scripts['start:prod']!.replace(/\.\/dist\//g, '/opt/greenspace/dist/').replace(/ dist\//g, ' /opt/greenspace/dist/');
    expect(one('ExecStart')).toBe(`/usr/bin/node ${prod.replace(/^node /, '')}`);
    expect(one('User')).toBe('greenspace');
    expect(one('ExecStart')).not.toMatch(/tsx|npm/);
  });

  it('restarts on failure, and gives the drain room inside its stop timeout', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(one('KillSignal')).toBe('SIGTERM');
    // app.stop drains the durable log for 5 s (main.ts: app.stop() with the default drainMs) after closing the doors
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(15);
    expect(one('ReadWritePaths')).toBe(settings.get('Environment')!.find((e) => e.startsWith('GS_DATA_DIR='))!.slice('GS_DATA_DIR='.length));
  });
});
