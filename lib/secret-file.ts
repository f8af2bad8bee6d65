import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from './logger.ts';

/**
 * A secret the server generates once into its data directory and reads at every later
 * start: the admin token, the key signed links use, the key device secrets are hashed with.
 * The file is created owner-only (0600) and with `wx`, so two processes starting on one
 * new data directory cannot each write their own (the second reads the first's).
 * `create` returns the file's text (without the newline); what it means is the caller's.
 */
export function loadOrCreateSecretFile(path: string, create: () => string, deps: { logger?: Logger; what: string }): string {
  if (existsSync(path)) return readSecret(path);
  try {
    writeFileSync(path, `${create()}\n`, { mode: 0o600, flag: 'wx' });
    deps.logger?.info({ path }, `generated ${deps.what}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readSecret(path);
}

function readSecret(path: string): string {
  const text = readFileSync(path, 'utf8').trim();
  if (text === '') throw new Error(`${path} is empty: restore it from a backup`);
  return text;
}
