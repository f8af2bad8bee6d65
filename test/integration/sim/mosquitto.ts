import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../influx/influxd-process.ts';

export interface Mosquitto {
  port: number;
  url: string;
  /** Stop the broker (SIGTERM: it saves its sessions, as an orderly restart does). */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });

/**
 * A real mosquitto on a free loopback port with sessions persisted: a broker the test can
 * restart. Anonymous by default; with `users`, only those username/password pairs get in.
 */
export async function startMosquitto(options: { users?: Record<string, string> } = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-mosq-'));
  // mosquitto started as root drops to its own user: it must be able to read and write here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  let auth = 'allow_anonymous true\n';
  if (options.users) {
    const pw = join(dir, 'passwords');
    writeFileSync(pw, '');
    for (const [user, password] of Object.entries(options.users)) execFileSync('mosquitto_passwd', ['-b', pw, user, password]);
    chmodSync(pw, 0o644);
    auth = `allow_anonymous false\npassword_file ${pw}\n`;
  }
  writeFileSync(conf, `listener ${port} 127.0.0.1\n${auth}persistence true\npersistence_location ${dir}/\n`);
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    child = spawn('mosquitto', ['-c', conf], { stdio: process.env.GS_MOSQ_DEBUG ? 'inherit' : 'ignore' });
    const deadline = Date.now() + 5_000;
    while (!(await canConnect(port))) {
      if (Date.now() > deadline) throw new Error('mosquitto did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function kill(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
