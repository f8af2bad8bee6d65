import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '../lib/logger.ts';
import { BOARDS } from './boards/index.ts';
import { dashboardProviderYaml, datasourceYaml } from './provisioning.ts';

/** Where the generated files live, relative to the dashboards/ folder. */
export const GENERATED_DIR = 'generated';
export const PROVISIONING_DIR = 'provisioning';

/** Every generated file: path relative to dashboards/ → exact content. */
export function renderFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const b of BOARDS) files.set(join(GENERATED_DIR, b.folder, b.file), `${JSON.stringify(b.build(), null, 2)}\n`);
  files.set(join(PROVISIONING_DIR, 'datasources', 'greenspace.yaml'), datasourceYaml());
  files.set(join(PROVISIONING_DIR, 'dashboards', 'greenspace.yaml'), dashboardProviderYaml());
  return files;
}

export function writeFiles(root: string): string[] {
  const written: string[] = [];
  for (const [path, content] of renderFiles()) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    written.push(path);
  }
  return written;
}

/** The dashboards/ folder of this checkout. */
export const DASHBOARDS_ROOT = dirname(fileURLToPath(import.meta.url));

// `npm run dashboards [outDir]`: regenerate into dashboards/ (or outDir).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(process.argv[2] ?? DASHBOARDS_ROOT);
  const files = writeFiles(root);
  createLogger('info').info({ module: 'dashboards', root, files }, 'dashboards generated');
}
