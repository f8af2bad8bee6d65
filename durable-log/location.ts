import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { LEGACY_SEGMENT_RE, segmentName } from './segments.ts';

/** The durable log's directory under the data directory. */
export const DURABLE_LOG_DIR = 'durable-log';
/** Its name before it had one name: `wal/`, with `*.wal` segments. */
const LEGACY_DIR = 'wal';

export type LegacyMove =
  | { kind: 'moved'; from: string; to: string; segments: number }
  | { kind: 'both-exist'; legacy: string; dir: string };

/**
 * Where the durable log lives, with what an earlier version left under the old names moved
 * there first, so an upgrade ships every point that was waiting: `{dataDir}/wal` becomes
 * `{dataDir}/durable-log` (one rename, the cursor with it), and `*.wal` segments are renamed
 * to the current extension. Segments are renamed on every start, not only with the
 * directory: a stop between the two renames leaves old names in the new directory.
 * When both directories exist (an older version was started again after an upgrade), the
 * old one is left alone and reported: merging two numberings is for a person to decide.
 */
export function prepareDurableLogDir(dataDir: string, report: (move: LegacyMove) => void = () => undefined): string {
  const dir = join(dataDir, DURABLE_LOG_DIR);
  const legacy = join(dataDir, LEGACY_DIR);
  const hadLegacy = existsSync(legacy);
  if (hadLegacy && existsSync(dir)) report({ kind: 'both-exist', legacy, dir });
  else if (hadLegacy) renameSync(legacy, dir);
  if (!existsSync(dir)) return dir;
  let segments = 0;
  for (const file of readdirSync(dir)) {
    const m = LEGACY_SEGMENT_RE.exec(file);
    if (!m) continue;
    renameSync(join(dir, file), join(dir, segmentName({ index: Number(m[1]), birth: Number(m[2]) })));
    segments++;
  }
  if (hadLegacy && !existsSync(legacy)) report({ kind: 'moved', from: legacy, to: dir, segments });
  return dir;
}
