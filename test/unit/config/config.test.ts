import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../config/config.ts';

const problems = (env: Record<string, string>, files: Record<string, string> = {}): string[] => {
  try {
    loadConfig(env, (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
      return text;
    });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('loadConfig', () => {
  it('gives the documented defaults with no configuration', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      mqttPort: 1883, httpPort: 3000, influxUrl: 'http://127.0.0.1:8086', influxDb: 'greenspace', dataDir: './data', logLevel: 'info', managedInfluxd: 'auto', durableAck: true,
    });
    expect(config.adminToken).toBeUndefined();
  });

  it('reads environment variables, coercing numbers and flags', () => {
    const config = loadConfig({ GS_MQTT_PORT: '0', GS_HTTP_PORT: '8080', GS_INFLUX_DB: 'city', GS_DURABLE_ACK: 'false', GS_ADMIN_TOKEN: 'a-long-enough-token' });
    expect(config).toMatchObject({ mqttPort: 0, httpPort: 8080, influxDb: 'city', durableAck: false, adminToken: 'a-long-enough-token' });
  });

  it.each([
    [{ GS_MQTT_PORT: 'abc' }, /^GS_MQTT_PORT: .*\(got "abc"\)$/],
    [{ GS_HTTP_PORT: '70000' }, /^GS_HTTP_PORT: .*65535.*\(got "70000"\)$/],
    [{ GS_HTTP_PORT: '1.5' }, /^GS_HTTP_PORT: expected a whole number/],
    [{ GS_INFLUX_URL: 'ftp://x' }, /^GS_INFLUX_URL: expected an http\(s\) URL/],
    [{ GS_INFLUX_DB: 'a b' }, /^GS_INFLUX_DB: expected letters, digits/],
    [{ GS_ADMIN_TOKEN: 'short' }, /^GS_ADMIN_TOKEN: must be at least 16 characters/],
    [{ GS_LOG_LEVEL: 'loud' }, /^GS_LOG_LEVEL: /],
    [{ GS_DURABLE_ACK: 'maybe' }, /^GS_DURABLE_ACK: /],
    [{ GS_WRITE_BATCH_SIZE: '0' }, /^GS_WRITE_BATCH_SIZE: expected at least 1 \(got "0"\)$/],
    [{ GS_MQTT_SOURCE_CONNECTIONS: '65' }, /^GS_MQTT_SOURCE_CONNECTIONS: expected at most 64 \(got "65"\)$/],
    [{ GS_INTAKE_MAX_BACKLOG: '-1' }, /^GS_INTAKE_MAX_BACKLOG: expected at least 0 \(got "-1"\)$/],
  ])('names the variable and the value for %j', (env, message) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    [{ GS_ADMIN_TOKEN: 'hunter2-short' }, 'hunter2'],
    [{ GS_MQTT_SOURCE: 'mqtt://ingest:hunter2@broker:99999' }, 'hunter2'],
    [{ GS_INFLUX_URL: 'http://admin:hunter2@influx:99999' }, 'hunter2'],
  ])('does not print a secret it refuses (%j): start-up errors end up in logs', (env, secret) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).not.toContain(secret);
  });

  describe('the InfluxDB write API', () => {
    it('is v1 unless set, and v2 takes the organisation, bucket and token', () => {
      expect(loadConfig({}).influxApi).toBe('v1');
      expect(loadConfig({ GS_INFLUX_API: 'v2', GS_INFLUX_ORG: 'city', GS_INFLUX_BUCKET: 'readings', GS_INFLUX_TOKEN: 'tok' })).toMatchObject({ influxApi: 'v2', influxOrg: 'city', influxBucket: 'readings', influxToken: 'tok' });
    });

    it('names each v2 setting missing', () => {
      expect(problems({ GS_INFLUX_API: 'v2', GS_INFLUX_BUCKET: 'readings' })).toEqual([
        expect.stringMatching(/^GS_INFLUX_ORG: required when GS_INFLUX_API is v2/),
        expect.stringMatching(/^GS_INFLUX_TOKEN: required when GS_INFLUX_API is v2 \(an API token allowed to write to the bucket\)$/),
      ]);
    });

    it.each([
      [{ GS_INFLUX_API: 'v3' }, /^GS_INFLUX_API: expected v1 \(InfluxDB 1\.x\) or v2 \(InfluxDB 2\.x\/3\.x\) \(got "v3"\)$/],
      [{ GS_INFLUX_BUCKET: 'a\nb' }, /^GS_INFLUX_BUCKET: expected no control characters/],
      [{ GS_INFLUX_ORG: 'o'.repeat(257) }, /^GS_INFLUX_ORG: expected at most 256 characters/],
    ])('refuses %j', (env, message) => {
      expect(problems(env)).toEqual([expect.stringMatching(message)]);
    });

    it('never prints the token it refuses', () => {
      const found = problems({ GS_INFLUX_TOKEN: `hunter2${'x'.repeat(5000)}` });
      expect(found).toEqual([expect.stringMatching(/^GS_INFLUX_TOKEN: expected at most 4096 characters \(value not shown/)]);
    });
  });

  describe('GS_TRUST_PROXY', () => {
    it('trusts no proxy unless set', () => {
      expect(loadConfig({}).trustProxy).toBeUndefined();
    });

    it.each([
      ['127.0.0.1', ['127.0.0.1']],
      [' 127.0.0.1 , 10.0.0.0/8,::1 ', ['127.0.0.1', '10.0.0.0/8', '::1']],
      ['2001:db8::/32,loopback', ['2001:db8::/32', 'loopback']],
      ['1', 1],
      ['2', 2],
    ])('reads %j', (value, expected) => {
      expect(loadConfig({ GS_TRUST_PROXY: value }).trustProxy).toEqual(expected);
    });

    it('takes a list or a hop count from the config file', () => {
      const files = { 'c.yaml': 'trustProxy: [10.0.0.1, 10.0.0.0/8]\n', 'h.yaml': 'trustProxy: 1\n' };
      expect(loadConfig({ GS_CONFIG: 'c.yaml' }, (p) => files[p as keyof typeof files]).trustProxy).toEqual(['10.0.0.1', '10.0.0.0/8']);
      expect(loadConfig({ GS_CONFIG: 'h.yaml' }, (p) => files[p as keyof typeof files]).trustProxy).toBe(1);
    });

    it.each([
      ['0', /^GS_TRUST_PROXY: expected a hop count 1-10/],
      ['11', /^GS_TRUST_PROXY: expected a hop count 1-10/],
      ['proxy.example.com', /^GS_TRUST_PROXY: expected an IP address, a CIDR/],
      ['10.0.0.0/33', /^GS_TRUST_PROXY: expected an IP address, a CIDR/],
      ['::1/129', /^GS_TRUST_PROXY: expected an IP address, a CIDR/],
      ['10.0.0.1/8/8', /^GS_TRUST_PROXY: expected an IP address, a CIDR/],
      [',', /^GS_TRUST_PROXY: expected at least one proxy address/],
      [Array.from({ length: 65 }, (_, i) => `10.0.0.${i}`).join(','), /^GS_TRUST_PROXY: expected at most 64 proxy addresses/],
    ])('refuses %j with a specific message', (value, message) => {
      const found = problems({ GS_TRUST_PROXY: value });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(message);
    });
  });

  it('reports every bad value at once', () => {
    expect(problems({ GS_MQTT_PORT: '-1', GS_HTTP_PORT: 'x', GS_LOG_LEVEL: 'nope' })).toHaveLength(3);
  });

  it('reads a YAML file named by GS_CONFIG, overridden by the environment', () => {
    const config = loadConfig({ GS_CONFIG: '/etc/gs.yaml', GS_HTTP_PORT: '9000' }, () => 'httpPort: 4000\nmqttPort: 1884\ninfluxDb: yamlcity\n');
    expect(config).toMatchObject({ httpPort: 9000, mqttPort: 1884, influxDb: 'yamlcity' });
  });

  it.each([
    [{ '/c.yaml': 'mqttPort: [1' }, /^GS_CONFIG=\/c.yaml: cannot read or parse/],
    [{ '/c.yaml': '- a\n- b\n' }, /^\/c.yaml: expected a mapping/],
    [{ '/c.yaml': 'mqttPrt: 1\n' }, /^\/c.yaml: unknown setting\(s\) mqttPrt$/],
    [{ '/c.yaml': 'mqttPort: banana\n' }, /^\/c.yaml: mqttPort: .*\(got "banana"\)$/],
    [{}, /^GS_CONFIG=\/c.yaml: cannot read or parse the file \(ENOENT/],
    // Bounded (lib/bounded-yaml.ts): the parser alone took seconds, then the heap, on such a file.
    [{ '/c.yaml': `mqttPort: ${'['.repeat(1_000_000)}` }, /^GS_CONFIG=\/c.yaml: cannot read or parse the file \(\/c.yaml:1: nested more than 64 levels deep\)$/],
    [{ '/c.yaml': `# ${'x'.repeat(2 * 1024 * 1024)}\n` }, /^GS_CONFIG=\/c.yaml: cannot read or parse the file \(\/c.yaml: \d+ bytes, over the limit of 1048576\)$/],
  ])('explains a bad config file %#', (files, message) => {
    const found = problems({ GS_CONFIG: '/c.yaml' }, files);
    expect(found[0]).toMatch(message);
  });

  describe('password-check capacity and the thread pool', () => {
    it('defaults to 2 checks at once, 256 waiting, and a pool derived from them', () => {
      expect(loadConfig({})).toMatchObject({ mqttAuthConcurrency: 2, mqttAuthQueue: 256 });
      expect(loadConfig({}).threadpoolSize).toBeUndefined();
    });

    it('reads them from the environment and the file, the environment winning', () => {
      expect(loadConfig({ GS_MQTT_AUTH_CONCURRENCY: '16', GS_MQTT_AUTH_QUEUE: '0', GS_THREADPOOL_SIZE: '24' }))
        .toMatchObject({ mqttAuthConcurrency: 16, mqttAuthQueue: 0, threadpoolSize: 24 });
      expect(loadConfig({ GS_CONFIG: '/c.yaml', GS_MQTT_AUTH_CONCURRENCY: '8' }, () => 'mqttAuthConcurrency: 4\nmqttAuthQueue: 5000\nthreadpoolSize: 12\n'))
        .toMatchObject({ mqttAuthConcurrency: 8, mqttAuthQueue: 5000, threadpoolSize: 12 });
    });

    it.each([
      [{ GS_MQTT_AUTH_CONCURRENCY: '0' }, /^GS_MQTT_AUTH_CONCURRENCY: expected at least 1 \(got "0"\)$/],
      [{ GS_MQTT_AUTH_CONCURRENCY: 'many' }, /^GS_MQTT_AUTH_CONCURRENCY: expected a number \(got "many"\)$/],
      [{ GS_MQTT_AUTH_CONCURRENCY: '2.5' }, /^GS_MQTT_AUTH_CONCURRENCY: expected a whole number/],
      [{ GS_MQTT_AUTH_QUEUE: '-1' }, /^GS_MQTT_AUTH_QUEUE: expected at least 0 \(got "-1"\)$/],
      [{ GS_THREADPOOL_SIZE: '0' }, /^GS_THREADPOOL_SIZE: expected at least 1 \(got "0"\)$/],
      [{ GS_THREADPOOL_SIZE: '1025' }, /^GS_THREADPOOL_SIZE: expected at most 1024 \(got "1025"\)$/], // libuv's ceiling
      [{ GS_MQTT_AUTH_CONCURRENCY: '8', GS_THREADPOOL_SIZE: '8' },
        /^GS_MQTT_AUTH_CONCURRENCY: 8 must be below GS_THREADPOOL_SIZE \(8\): password checks on every thread would hold the durable log's writes/],
      [{ GS_MQTT_AUTH_CONCURRENCY: '1024' }, /^GS_MQTT_AUTH_CONCURRENCY: 1024 must be below the largest thread pool libuv has \(1024\)/],
    ])('refuses %j, naming the setting', (env, message) => {
      const found = problems(env);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(message);
    });
  });

  describe('the clustered mode', () => {
    it('is off by default and needs no Redis; GS_CLUSTER=redis with GS_REDIS_URL turns it on', () => {
      expect(loadConfig({}).cluster).toBe('off');
      expect(loadConfig({}).redisUrl).toBeUndefined();
      expect(loadConfig({ GS_CLUSTER: 'redis', GS_REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ cluster: 'redis', redisUrl: 'redis://127.0.0.1:6379' });
    });
    it.each([
      [{ GS_CLUSTER: 'redis' }, 'GS_REDIS_URL: required when GS_CLUSTER is redis (e.g. redis://127.0.0.1:6379)'],
      [{ GS_REDIS_URL: 'redis://127.0.0.1:6379' }, 'GS_REDIS_URL: set, but GS_CLUSTER is off: set GS_CLUSTER=redis to use it, or unset it'],
      [{ GS_CLUSTER: 'mosquitto' }, 'GS_CLUSTER: '],
      [{ GS_CLUSTER: 'redis', GS_REDIS_URL: 'http://127.0.0.1:6379' }, 'GS_REDIS_URL: expected a redis:// or rediss:// URL'],
      [{ GS_CLUSTER: 'redis', GS_REDIS_URL: 'redis://127.0.0.1:6379', GS_CLUSTER_ACK_REPLICA: 'disk' }, 'GS_CLUSTER_ACK_REPLICA: '],
    ])('refuses %o', (env, message) => {
      expect(problems(env).join('\n')).toContain(message);
    });
    it('takes a credential key file for every node (GS_CREDENTIAL_KEY_FILE), a path of bounded length; unset, the data directory\'s own key', () => {
      expect(loadConfig({}).credentialKeyFile).toBeUndefined();
      expect(loadConfig({ GS_CREDENTIAL_KEY_FILE: '/etc/greenspace/credential-key' }).credentialKeyFile).toBe('/etc/greenspace/credential-key');
      expect(problems({ GS_CREDENTIAL_KEY_FILE: `/${'k'.repeat(4096)}` }).join('\n')).toContain('GS_CREDENTIAL_KEY_FILE: expected a path of at most 4096 characters');
    });
    it('copies acknowledged points to Redis unless GS_CLUSTER_ACK_REPLICA=off', () => {
      expect(loadConfig({ GS_CLUSTER: 'redis', GS_REDIS_URL: 'redis://127.0.0.1:6379' }).ackReplica).toBe('redis');
      expect(loadConfig({ GS_CLUSTER: 'redis', GS_REDIS_URL: 'redis://127.0.0.1:6379', GS_CLUSTER_ACK_REPLICA: 'off' }).ackReplica).toBe('off');
    });
    it('never echoes the Redis URL, which may carry a password', () => {
      expect(problems({ GS_CLUSTER: 'redis', GS_REDIS_URL: 'http://:hunter2@x' }).join('\n')).not.toContain('hunter2');
    });
    it('keeps alerts and work orders in SQLite unless GS_POSTGRES_URL names a PostgreSQL, with or without GS_CLUSTER', () => {
      expect(loadConfig({}).postgresUrl).toBeUndefined();
      expect(loadConfig({ GS_CLUSTER: 'redis', GS_REDIS_URL: 'redis://127.0.0.1:6379' }).postgresUrl).toBeUndefined();
      expect(loadConfig({ GS_POSTGRES_URL: 'postgres://gs:pw@db:5432/greenspace' }).postgresUrl).toBe('postgres://gs:pw@db:5432/greenspace');
      expect(loadConfig({ GS_POSTGRES_URL: 'postgresql://db/greenspace' }).postgresUrl).toBe('postgresql://db/greenspace');
    });
    it.each([
      ['mysql://db/greenspace'], ['http://db:5432/greenspace'], ['db:5432'],
    ])('refuses GS_POSTGRES_URL %s, without echoing it', (url) => {
      const found = problems({ GS_POSTGRES_URL: url.replace('db', 'u:hunter2@db') }).join('\n');
      expect(found).toContain('GS_POSTGRES_URL: expected a postgres:// or postgresql:// URL');
      expect(found).not.toContain('hunter2');
    });
  });

  describe('the raw retention', () => {
    it('keeps raw points 400 days by default; GS_RAW_RETENTION_DAYS sets it, 0 keeps them forever', () => {
      expect(loadConfig({}).rawRetentionDays).toBe(400);
      expect(loadConfig({ GS_RAW_RETENTION_DAYS: '90' }).rawRetentionDays).toBe(90);
      expect(loadConfig({ GS_RAW_RETENTION_DAYS: '0' }).rawRetentionDays).toBe(0);
    });

    it.each([['-1', 'expected at least 0'], ['1.5', 'expected a whole number'], ['a year', 'expected a number']])('refuses %s', (value, message) => {
      expect(problems({ GS_RAW_RETENTION_DAYS: value })).toEqual([expect.stringContaining(message)]);
      expect(problems({ GS_RAW_RETENTION_DAYS: value })[0]).toContain('GS_RAW_RETENTION_DAYS');
    });
  });

  describe('the durable log budget, and its old name', () => {
    const load = (env: Record<string, string>, file?: string) => {
      const warnings: string[] = [];
      const config = loadConfig(file === undefined ? env : { GS_CONFIG: '/c.yaml', ...env }, () => file ?? '', (message) => warnings.push(message));
      return { budget: config.durableLogMaxBytes, warnings };
    };

    it('is 1 GiB by default and set by GS_DURABLE_LOG_MAX_BYTES, with no warning', () => {
      expect(load({})).toEqual({ budget: 1024 ** 3, warnings: [] });
      expect(load({ GS_DURABLE_LOG_MAX_BYTES: '5000000' })).toEqual({ budget: 5_000_000, warnings: [] });
      expect(load({}, 'durableLogMaxBytes: 6000000\n')).toEqual({ budget: 6_000_000, warnings: [] });
    });

    it('still takes GS_SPOOL_MAX_BYTES (and the file key spoolMaxBytes), with a deprecation warning naming the new one', () => {
      expect(load({ GS_SPOOL_MAX_BYTES: '7000000' })).toEqual({ budget: 7_000_000, warnings: ['GS_SPOOL_MAX_BYTES is deprecated, use GS_DURABLE_LOG_MAX_BYTES (same meaning)'] });
      expect(load({}, 'spoolMaxBytes: 8000000\n')).toEqual({ budget: 8_000_000, warnings: ['/c.yaml: spoolMaxBytes is deprecated, use durableLogMaxBytes (same meaning)'] });
    });

    it.each([
      ['the new variable over the old one', { GS_DURABLE_LOG_MAX_BYTES: '1000000', GS_SPOOL_MAX_BYTES: '2000000' }, undefined, 1_000_000],
      ['the new file key over the old one', {}, 'durableLogMaxBytes: 3000000\nspoolMaxBytes: 4000000\n', 3_000_000],
      ['the old variable over the file, as any variable', { GS_SPOOL_MAX_BYTES: '2000000' }, 'durableLogMaxBytes: 3000000\n', 2_000_000],
    ])('prefers %s', (_, env, file, budget) => {
      expect(load(env, file).budget).toBe(budget);
    });

    it('checks the old name\'s value like the new one\'s, naming where it came from', () => {
      expect(problems({ GS_SPOOL_MAX_BYTES: '0' })).toEqual(['GS_SPOOL_MAX_BYTES: expected at least 1 (got "0")']);
    });
  });
});
