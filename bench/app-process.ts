import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface AppProcess {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string | null>;
}

/**
 * Run `main.ts` as a real process (one node process, tsx as a loader, so a signal reaches
 * the app itself), with the young-generation size and thread-pool preload `npm start` uses.
 */
export async function spawnApp(env: Record<string, string>, timeoutMs = 60_000, options: { preload?: boolean; built?: string } = {}): Promise<AppProcess> {
  // `built`: a compiled output directory (npm run build), started as `npm run start:prod` does: plain node, no tsx.
  const base = options.built ?? ROOT;
  const preload = options.preload === false ? [] : ['--require', join(base, 'config', 'threadpool-preload.cjs')];
  const entry = options.built ? [join(options.built, 'main.js')] : ['--import', 'tsx', join(ROOT, 'main.ts')];
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...preload, ...entry], {
    cwd: ROOT,
    env: { ...process.env, GS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const started = await new Promise<{ mqttPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.includes('"greenspace started"')) continue;
        const parsed = JSON.parse(line) as { mqttPort: number; httpPort: number };
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        return resolve(parsed);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${code}) before starting:\n${out}`));
    });
  });
  return { child, ...started, output: () => out, exited };
}
