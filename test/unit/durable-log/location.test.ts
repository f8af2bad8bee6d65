import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareDurableLogDir, type LegacyMove } from '../../../durable-log/location.ts';
import { openDurableLog } from '../../../durable-log/durable-log.ts';
import { createManualClock } from '../../../lib/clock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-data-'));
  dirs.push(dir);
  return dir;
};
const BIRTH = '1765000000000';

/** What a version before the rename left: `wal/` with `.wal` segments and a cursor into the second. */
function legacyLog(data: string): void {
  mkdirSync(join(data, 'wal'));
  writeFileSync(join(data, 'wal', `000000000001-${BIRTH}.wal`), 'm v=1 1\nm v=2 2\n');
  writeFileSync(join(data, 'wal', `000000000002-${BIRTH}.wal`), 'm v=3 3\nm v=4 4\n');
  writeFileSync(join(data, 'wal', 'cursor.json'), JSON.stringify({ segment: 2, offset: 8, line: 1 }));
}

describe('the durable log directory', () => {
  it('is {dataDir}/durable-log, and nothing is moved or reported on a fresh data dir', () => {
    const data = dataDir();
    const moves: LegacyMove[] = [];
    expect(prepareDurableLogDir(data, (m) => moves.push(m))).toBe(join(data, 'durable-log'));
    expect(moves).toEqual([]);
    expect(readdirSync(data)).toEqual([]); // openDurableLog creates it
  });

  it('takes over {dataDir}/wal from before the rename: its segments, renamed, and its cursor', async () => {
    const data = dataDir();
    legacyLog(data);
    const moves: LegacyMove[] = [];
    const dir = prepareDurableLogDir(data, (m) => moves.push(m));
    expect(moves).toEqual([{ kind: 'moved', from: join(data, 'wal'), to: dir, segments: 2 }]);
    expect(existsSync(join(data, 'wal'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['000000000001-1765000000000.seg', '000000000002-1765000000000.seg', 'cursor.json']);
    // Nothing waiting is lost: the log opened there reads on from the old cursor.
    const log = await openDurableLog({ dir, clock: createManualClock(1_765_000_000_000), fsync: true, maxBytes: 1e9, onDrop: () => undefined });
    expect(log.read(10)?.lines).toEqual(['m v=4 4']);
    await log.close();
  });

  it('renames segments still under the old extension in the new directory (a stop between the two renames)', () => {
    const data = dataDir();
    mkdirSync(join(data, 'durable-log'));
    writeFileSync(join(data, 'durable-log', `000000000007-${BIRTH}.wal`), 'm v=1 1\n');
    const moves: LegacyMove[] = [];
    const dir = prepareDurableLogDir(data, (m) => moves.push(m));
    expect(readdirSync(dir)).toEqual(['000000000007-1765000000000.seg']);
    expect(readFileSync(join(dir, '000000000007-1765000000000.seg'), 'utf8')).toBe('m v=1 1\n');
    expect(moves).toEqual([]);
  });

  it('leaves an old directory alone, and says so, when the new one exists too', () => {
    const data = dataDir();
    legacyLog(data);
    mkdirSync(join(data, 'durable-log'));
    const moves: LegacyMove[] = [];
    const dir = prepareDurableLogDir(data, (m) => moves.push(m));
    expect(moves).toEqual([{ kind: 'both-exist', legacy: join(data, 'wal'), dir }]);
    expect(readdirSync(join(data, 'wal'))).toHaveLength(3);
    expect(readdirSync(dir)).toEqual([]);
  });
});
