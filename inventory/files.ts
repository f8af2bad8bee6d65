import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { DeviceCredential, Inventory, InventoryProblem } from '../contracts/inventory.ts';
import { INVENTORY_LIMITS, parseInventoryText, type CheckedInventory, type CheckOptions } from './parse.ts';

/** Read and validate an inventory file; problems name it as the operator typed it. */
export function readInventoryFile(path: string, options: CheckOptions = {}): CheckedInventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: [{ file: path, path: '(file)', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }] };
  }
  return parseInventoryText(text, path, INVENTORY_LIMITS, options);
}

export const formatOf = (path: string): 'json' | 'yaml' => (/\.json$/i.test(path) ? 'json' : 'yaml');

/**
 * A credentials file, created (0600, never overwriting) before the import runs, so a
 * path that cannot be written stops the import before any secret exists; filled after.
 */
export function openCredentialsFile(path: string) {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'EEXIST'
      ? `credentials file ${path} already exists: secrets are never overwritten; choose another with --credentials`
      : `cannot create the credentials file ${path} (${code ?? (error as Error).message})`, { cause: error });
  }
  return {
    path,
    write(credentials: DeviceCredential[]): void {
      writeSync(fd, formatCredentials(credentials));
      closeSync(fd);
    },
    discard(): void {
      closeSync(fd);
      unlinkSync(path);
    },
  };
}

/** The credentials CSV: a header, then one `device_id,secret` line per device. */
export const formatCredentials = (credentials: DeviceCredential[]): string =>
  `${['device_id,secret', ...credentials.map((c) => `${c.deviceId},${c.secret}`)].join('\n')}\n`;

export const defaultCredentialsPath = (inventoryPath: string, now: Date): string =>
  `${basename(inventoryPath).replace(/\.(ya?ml|json)$/i, '')}-credentials-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}.csv`;
