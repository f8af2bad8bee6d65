import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_NAMES, loadConfig } from '../../../config/config.ts';
import { checkThreadpool } from '../../../config/threadpool.ts';
import { libuvThreads, requestedThreadpoolSize } from '../../../config/threadpool-size.cjs';

const FILE = '/etc/gs.yaml';
const readFrom = (text: string) => (path: string): string => {
  if (path !== FILE) throw new Error(`ENOENT: ${path}`);
  return text;
};

describe('the thread pool the preload asks libuv for', () => {
  // The preload reads the settings before TypeScript or zod can run: it must land where
  // the checked configuration does, or main.ts refuses to start.
  it.each([
    [{}, '', 4],
    [{ GS_MQTT_AUTH_CONCURRENCY: '1' }, '', 4],
    [{ GS_MQTT_AUTH_CONCURRENCY: '6' }, '', 8],
    [{ GS_MQTT_AUTH_CONCURRENCY: '64' }, '', 66],
    [{ GS_THREADPOOL_SIZE: '12' }, '', 12],
    [{ GS_THREADPOOL_SIZE: '12', GS_MQTT_AUTH_CONCURRENCY: '10' }, '', 12],
    [{ GS_CONFIG: FILE }, 'mqttAuthConcurrency: 10\n', 12],
    [{ GS_CONFIG: FILE }, 'threadpoolSize: 7\nmqttAuthConcurrency: 3\n', 7],
    [{ GS_CONFIG: FILE, GS_MQTT_AUTH_CONCURRENCY: '4' }, 'mqttAuthConcurrency: 10\n', 6], // the environment wins
    [{ GS_CONFIG: FILE, GS_THREADPOOL_SIZE: '' }, 'threadpoolSize: 9\n', 9], // empty = unset, as loadConfig reads it
    [{ GS_MQTT_AUTH_CONCURRENCY: '1022' }, '', 1024], // libuv's ceiling
  ])('%j with file %j: %i threads, as the configuration says', (env, file, threads) => {
    expect(requestedThreadpoolSize(env, readFrom(file), parse)).toBe(threads);
    const config = loadConfig(env, readFrom(file));
    expect(checkThreadpool(config, String(threads))).toEqual({ threads, wanted: threads, problems: [] });
  });

  it('reads the variables loadConfig reads', () => {
    expect(requestedThreadpoolSize({ [ENV_NAMES.threadpoolSize]: '9' }, readFrom(''), parse)).toBe(9);
    expect(requestedThreadpoolSize({ [ENV_NAMES.mqttAuthConcurrency]: '9' }, readFrom(''), parse)).toBe(11);
  });

  it('leaves values it cannot read to loadConfig, which names them', () => {
    expect(requestedThreadpoolSize({ GS_MQTT_AUTH_CONCURRENCY: 'many' }, readFrom(''), parse)).toBe(4);
    expect(requestedThreadpoolSize({ GS_CONFIG: '/missing.yaml' }, readFrom(''), parse)).toBeUndefined();
    expect(requestedThreadpoolSize({ GS_CONFIG: FILE }, readFrom('mqttAuthConcurrency: [1'), parse)).toBeUndefined();
  });

  it.each([
    [undefined, 4], ['8', 8], ['0', 1], ['', 1], ['abc', 1], ['16threads', 16], ['5000', 1024], ['-1', 1024],
  ] as const)('reads UV_THREADPOOL_SIZE=%j as libuv does: %i threads', (value, threads) => {
    expect(libuvThreads(value)).toBe(threads);
  });
});

describe('checkThreadpool: the pool this process got against the configured one', () => {
  const config = (env: Record<string, string>) => loadConfig(env);

  it.each([
    ['defaults, nothing set (no preload needed)', {}, undefined, 4],
    ['the preload applied the derived size', { GS_MQTT_AUTH_CONCURRENCY: '6' }, '8', 8],
    ['an operator\'s larger pool', { GS_MQTT_AUTH_CONCURRENCY: '6' }, '32', 32],
    ['an operator\'s smaller pool that still leaves a thread', { GS_MQTT_AUTH_CONCURRENCY: '6' }, '7', 7],
  ])('accepts %s', (_what, env, uv, threads) => {
    expect(checkThreadpool(config(env), uv)).toMatchObject({ threads, problems: [] });
  });

  it.each([
    ['a derived size without the preload', { GS_MQTT_AUTH_CONCURRENCY: '6' }, undefined,
      /^GS_MQTT_AUTH_CONCURRENCY=6 asks for 8 libuv threads, but this process started libuv's default 4 before main\.ts ran: start it with npm start, .*set UV_THREADPOOL_SIZE=8$/],
    ['GS_THREADPOOL_SIZE against another UV_THREADPOOL_SIZE', { GS_THREADPOOL_SIZE: '12' }, '6',
      /^GS_THREADPOOL_SIZE=12 asks for 12 libuv threads, but UV_THREADPOOL_SIZE=6 is set and libuv obeys it \(6 threads\): set one of the two$/],
    ['an operator\'s pool no larger than the checks', { GS_MQTT_AUTH_CONCURRENCY: '6' }, '6',
      /^GS_MQTT_AUTH_CONCURRENCY: 6 must be below the libuv thread pool \(UV_THREADPOOL_SIZE=6: 6 threads\)/],
  ])('refuses %s', (_what, env, uv, message) => {
    const { problems } = checkThreadpool(config(env), uv);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});
