'use strict';
// Preloaded with `--require` (npm start: `tsx --require ./config/threadpool-preload.cjs main.ts`)
// to size libuv's thread pool from the configuration (GS_THREADPOOL_SIZE, or room for
// GS_MQTT_AUTH_CONCURRENCY scrypt checks beside the durable log) when the operator has not
// set UV_THREADPOOL_SIZE.
//
// Why here and not in main.ts: libuv reads UV_THREADPOOL_SIZE once, when the pool starts,
// which is the first time anything queues work on it (async fs, crypto.scrypt, dns.lookup,
// zlib); later changes are ignored. Node 20's ESM loader reads the entry module and its
// imports with async fs, and tsx's loader thread does too, so the pool is running before
// the first line of main.ts, or of any module main.ts imports first, is evaluated. A
// `--require` preload runs before the ESM loader and before tsx's `--import`, in CommonJS
// and synchronous fs only (yaml parses synchronously), so it is the last moment that counts.
// main.ts checks afterwards that the pool it got is the one the configuration asks for.
const { isMainThread } = require('node:worker_threads');

// Loader threads preload this too; the environment is the process's, already decided.
if (isMainThread && process.env.UV_THREADPOOL_SIZE === undefined) {
  const { readFileSync } = require('node:fs');
  const { parse } = require('yaml');
  const { requestedThreadpoolSize } = require('./threadpool-size.cjs');
  const size = requestedThreadpoolSize(process.env, (path) => readFileSync(path, 'utf8'), parse);
  if (size !== undefined) process.env.UV_THREADPOOL_SIZE = String(size);
}
