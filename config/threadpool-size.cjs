'use strict';
// How many threads libuv's pool gets, in plain CommonJS because config/threadpool-preload.cjs
// must decide it before anything in the process uses the pool (see there), which rules out
// TypeScript, ESM and every loader. config/threadpool.ts imports the same functions, so the
// preload and the checked configuration cannot disagree on the rule.

/** libuv's own default, and its ceiling (deps/uv/src/threadpool.c, MAX_THREADPOOL_SIZE). */
const LIBUV_DEFAULT_THREADS = 4;
const LIBUV_MAX_THREADS = 1024;
/** scrypt checks of MQTT passwords running at once by default (broker/authenticate.ts). */
const DEFAULT_AUTH_CONCURRENCY = 2;
/**
 * Threads kept free of scrypt: the durable log's appends and fdatasync, and DNS lookups,
 * run on the same pool, and every QoS 1 PUBACK waits for an fdatasync. Two is what the
 * defaults have always left them (4 threads, 2 checks at once).
 */
const THREADS_BESIDE_SCRYPT = 2;

/** The pool size the configuration asks for: its own setting, else room for the checks and the durable log. */
function threadpoolSizeFor(threadpoolSize, authConcurrency) {
  if (threadpoolSize !== undefined) return threadpoolSize;
  return Math.min(LIBUV_MAX_THREADS, Math.max(LIBUV_DEFAULT_THREADS, authConcurrency + THREADS_BESIDE_SCRYPT));
}

/** The pool libuv starts for this UV_THREADPOOL_SIZE, read as libuv reads it (atoi; 0 → 1; past the ceiling → 1,024). */
function libuvThreads(value) {
  if (value === undefined) return LIBUV_DEFAULT_THREADS;
  const n = Number.parseInt(value, 10);
  if (Number.isNaN(n) || n === 0) return 1;
  return n < 0 || n > LIBUV_MAX_THREADS ? LIBUV_MAX_THREADS : n; // a negative atoi is a huge unsigned int to libuv
}

/**
 * The size the configuration asks for, read leniently from the environment (which wins)
 * and the GS_CONFIG file: a value this cannot read is left to loadConfig, which stops the
 * start naming it. Undefined when the file cannot be read (the same).
 */
function requestedThreadpoolSize(env, readFile, parseYaml) {
  let file = {};
  if (env.GS_CONFIG) {
    try {
      const parsed = parseYaml(readFile(env.GS_CONFIG));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) file = parsed;
    } catch {
      return undefined;
    }
  }
  const setting = (name, key) => {
    const raw = env[name] !== undefined && env[name] !== '' ? env[name] : file[key];
    const n = typeof raw === 'number' || typeof raw === 'string' ? Number(raw) : Number.NaN;
    return Number.isInteger(n) && n >= 1 && n <= LIBUV_MAX_THREADS ? n : undefined;
  };
  return threadpoolSizeFor(setting('GS_THREADPOOL_SIZE', 'threadpoolSize'), setting('GS_MQTT_AUTH_CONCURRENCY', 'mqttAuthConcurrency') ?? DEFAULT_AUTH_CONCURRENCY);
}

module.exports = {
  LIBUV_DEFAULT_THREADS, LIBUV_MAX_THREADS, DEFAULT_AUTH_CONCURRENCY, THREADS_BESIDE_SCRYPT,
  threadpoolSizeFor, libuvThreads, requestedThreadpoolSize,
};
