import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDb } from '../registry/db.ts';
import { loadCredentialHasher } from '../registry/secrets.ts';
import { backupDataDir, restoreDataDir } from '../registry/backup.ts';
import { createInventoryImporter } from '../inventory/apply.ts';
import { parseInventoryText } from '../inventory/parse.ts';
import { spawnApp, type AppProcess } from './app-process.ts';

/**
 * Two (or more) app processes as a cluster on loopback, for the kill -9 test and the
 * failover benchmark: each node its own data directory, all the same credential key file
 * (GS_CREDENTIAL_KEY_FILE), Redis, InfluxDB database and registry. The registry is
 * imported once into node 0's data directory, as `cli inventory import` does. With
 * `postgresUrl` that is all: node 0 bootstraps PostgreSQL at its start and the others,
 * started after it (`startAll`), receive the registry at theirs. Without it, it is restored
 * into every other node's data directory as `cli backup` / `cli restore` do, so every node
 * knows every device with the same secret hash (checkable under the shared key).
 */
export const VALVE_ZONE = 'fo-east-water';
export const VALVE_ID = 'fo-valve';
/** With `splitZone`: an automatic zone of fo-west with two soil sensors (which a test connects to different nodes) and a valve. */
export const SPLIT_ZONE = 'fo-west-split';
export const SPLIT_SENSORS = ['fo-split-a', 'fo-split-b'] as const;
export const SPLIT_VALVE = 'fo-split-valve';

/**
 * Sensors `fo-s0 … fo-s{n-1}` alternately in two communities; one valve in an automatic zone;
 * with `splitZone`, the two-sensor zone SPLIT_ZONE too (the benchmark goes without it).
 */
export function failoverInventory(sensors: number, splitZone = false): string {
  const sensorsOf = (community: 'east' | 'west', parity: number) => Array.from({ length: sensors }, (_, i) => i)
    .filter((i) => i % 2 === parity)
    .map((i) => `              - { id: fo-s${i}, kind: soil, zone: fo-${community}-lawn }`).join('\n');
  // The valve's zone has no soil sensor, so neither node's controller waters it by itself:
  // only the operator's "water now" does. Its windows are far from any test's hour anyway.
  return `version: 1
districts:
  - id: fo-d
    name: 测试区
    subDistricts:
      - id: fo-sd
        name: 测试街道
        communities:
          - id: fo-east
            name: 东小区
            zones:
              - { id: fo-east-lawn, name: 东草坪, plant: lawn, mode: manual }
              - { id: ${VALVE_ZONE}, name: 东灌溉区, plant: lawn, mode: automatic, valve: ${VALVE_ID} }
            devices:
              - { id: ${VALVE_ID}, kind: valve, zone: ${VALVE_ZONE} }
${sensorsOf('east', 0)}
          - id: fo-west
            name: 西小区
            zones:
              - { id: fo-west-lawn, name: 西草坪, plant: lawn, mode: manual }
${splitZone ? `              - { id: ${SPLIT_ZONE}, name: 西分测区, plant: lawn, mode: automatic, valve: ${SPLIT_VALVE} }\n` : ''}            devices:
${sensorsOf('west', 1)}
${splitZone ? [`              - { id: ${SPLIT_VALVE}, kind: valve, zone: ${SPLIT_ZONE} }`, ...SPLIT_SENSORS.map((id) => `              - { id: ${id}, kind: soil, zone: ${SPLIT_ZONE} }`)].join('\n') : ''}
`;
}

export interface FailoverNode { dataDir: string; env: Record<string, string>; process: AppProcess; kill(): Promise<void> }

/**
 * `clustered: false` (with one node): the one-process default on the same registry and
 * settings, the baseline the benchmark compares the cluster with.
 */
export async function prepareFailoverCluster(o: { nodes: number; sensors: number; redisUrl?: string; postgresUrl?: string; influxUrl: string; influxDb: string; adminToken: string; clustered?: boolean; splitZone?: boolean }) {
  const clustered = o.clustered ?? true;
  if (clustered && !o.redisUrl) throw new Error('a clustered failover setup needs redisUrl');
  const root = mkdtempSync(join(tmpdir(), 'gs-failover-'));
  const keyFile = join(root, 'credential-key');
  writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const dataDirs = Array.from({ length: o.nodes }, (_, i) => join(root, `node-${i}`));
  for (const dir of dataDirs) mkdirSync(dir);

  const parsed = parseInventoryText(failoverInventory(o.sensors, o.splitZone), 'failover.yaml');
  if (!parsed.ok) throw new Error(`the failover inventory does not parse: ${JSON.stringify(parsed.error)}`);
  const db = openDb(join(dataDirs[0]!, 'greenspace.db'));
  const { credentials } = await createInventoryImporter({ db, now: () => Date.now(), hashSecret: loadCredentialHasher(dataDirs[0]!, undefined, keyFile).hash })
    .importInventory(parsed.value)
    .finally(() => db.close());
  if (!o.postgresUrl) {
    const backup = join(root, 'backup');
    backupDataDir(dataDirs[0]!, backup);
    for (const dir of dataDirs.slice(1)) restoreDataDir(backup, dir, { replace: false });
  }
  const secrets = new Map(credentials.map((c) => [c.deviceId, c.secret]));

  const envOf = (dataDir: string): Record<string, string> => ({
    ...(clustered ? { GS_CLUSTER: 'redis', GS_REDIS_URL: o.redisUrl! } : {}),
    // Alerts and work orders shared by the nodes (absent: each node's own SQLite).
    ...(o.postgresUrl ? { GS_POSTGRES_URL: o.postgresUrl } : {}),
    GS_CREDENTIAL_KEY_FILE: keyFile, GS_DATA_DIR: dataDir,
    GS_INFLUX_URL: o.influxUrl, GS_INFLUX_DB: o.influxDb, GS_MANAGED_INFLUXD: 'never', GS_ADMIN_TOKEN: o.adminToken,
    GS_MQTT_HOST: '127.0.0.1', GS_MQTT_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_HTTP_PORT: '0',
    GS_WRITE_FLUSH_MS: '50', GS_MQTT_PUBLISH_RATE_PER_S: '100000', GS_MQTT_PUBLISH_BURST: '100000',
  });
  const running: FailoverNode[] = [];
  /** Start a node on data directory `i` (again, after a kill: its durable log is shipped at start); `extra` settings for this node. */
  const start = async (i: number, extra: Record<string, string> = {}): Promise<FailoverNode> => {
    const env = { ...envOf(dataDirs[i]!), ...extra };
    const child = await spawnApp(env, 90_000);
    const node: FailoverNode = {
      dataDir: dataDirs[i]!,
      env,
      process: child,
      async kill() {
        if (child.child.exitCode !== null || child.child.signalCode !== null) return;
        child.child.kill('SIGKILL');
        await child.exited;
      },
    };
    running.push(node);
    return node;
  };
  return {
    secrets,
    start,
    /**
     * Every node: node 0 first when the registry comes through PostgreSQL (it bootstraps it;
     * a node started on an empty directory before that would refuse devices for a round), the
     * rest together. `extra[i]`: settings for node i.
     */
    async startAll(extra: ReadonlyArray<Record<string, string>> = []): Promise<FailoverNode[]> {
      if (!o.postgresUrl) return Promise.all(dataDirs.map((_, i) => start(i, extra[i])));
      const first = await start(0, extra[0]);
      return [first, ...await Promise.all(dataDirs.slice(1).map((_, i) => start(i + 1, extra[i + 1])))];
    },
    /** Every node killed, the files removed. */
    async cleanup(): Promise<void> {
      for (const node of running) await node.kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
