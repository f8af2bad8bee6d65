import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { copyDevice } from '../../helpers/cluster.ts';
import { connect } from '../../helpers/mqtt.ts';
import { createLogger } from '../../../lib/logger.ts';

const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };

/** Connects with the secret: true on CONNACK, false when refused. */
const accepts = async (node: TestApp, id: string, secret: string): Promise<boolean> => {
  try {
    const client = await connect(node.app.mqttPort, { clientId: id, username: id, password: secret });
    client.end(true);
    return true;
  } catch (error) {
    expect((error as Error).message).toMatch(/Not authorized|Bad username or password/);
    return false;
  }
};

describe('one credential key for the cluster (GS_CREDENTIAL_KEY_FILE)', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let keyDir: string;
  let a: TestApp;
  let b: TestApp;
  let lone: TestApp;
  let loneLog = '';

  beforeAll(async () => {
    redis = await startTestRedis();
    keyDir = mkdtempSync(join(tmpdir(), 'gs-cluster-key-'));
    const keyFile = join(keyDir, 'credential-key');
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const clustered = { cluster: 'redis', redisUrl: redis.url, influxDb: uniqueDb('key') };
    a = await startTestApp({ ...clustered, credentialKeyFile: keyFile });
    b = await startTestApp({ ...clustered, credentialKeyFile: keyFile });
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { loneLog += chunk.toString(); done(); } });
    lone = await startTestApp(clustered, { logger: createLogger('warn', sink) });
  });
  afterAll(async () => {
    for (const node of [lone, b, a]) await node?.stop();
    await redis?.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('a device registered on either node (its secret hashed there) is accepted by the other, whose copy of the hash is the same', async () => {
    const onA = { id: 'soil-ka', kind: 'soil', place };
    const secretA = await a.register(onA);
    await copyDevice(a, b, onA);
    expect(await accepts(b, 'soil-ka', secretA)).toBe(true);

    const onB = { id: 'soil-kb', kind: 'soil', place };
    const secretB = await b.register(onB);
    await copyDevice(b, a, onB);
    expect(await accepts(a, 'soil-kb', secretB)).toBe(true);
    expect(await accepts(a, 'soil-kb', secretA)).toBe(false); // a check that can fail
  });

  it('a clustered node without the setting hashes under its own key: it refuses the copied device, and said why at its start', async () => {
    const onA = { id: 'soil-kl', kind: 'soil', place };
    const secret = await a.register(onA);
    await copyDevice(a, lone, onA);
    expect(await accepts(lone, 'soil-kl', secret)).toBe(false);
    const warning = loneLog.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; setting?: string }).find((l) => l.setting === 'GS_CREDENTIAL_KEY_FILE');
    expect(warning).toMatchObject({ level: 40 });
    expect(warning!.msg).toMatch(/clustered node without GS_CREDENTIAL_KEY_FILE/);
  });
});
