import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '../lib/logger.ts';
import { BOARDS } from './boards/index.ts';
import { DEFAULT_BOARD_OPTIONS, tiltLimitsOf, type BoardOptions } from './limits.ts';
import { loadRulesConfig } from '../health/rules-config.ts';
import { ConfigError } from '../config/config.ts';
import { dashboardProviderYaml, datasourceYaml } from './provisioning.ts';

/** Where the generated files live, relative to the dashboards/ folder. */
export const GENERATED_DIR = 'generated';
export const PROVISIONING_DIR = 'provisioning';
/** The same for InfluxDB 2.x/3.x: point Grafana's provisioning path here instead. */
export const PROVISIONING_V2_DIR = 'provisioning-influxdb2';

/** Every generated file: path relative to dashboards/ → exact content. */
export function renderFiles(options: BoardOptions = DEFAULT_BOARD_OPTIONS): Map<string, string> {
  const files = new Map<string, string>();
  for (const b of BOARDS) files.set(join(GENERATED_DIR, b.folder, b.file), `${JSON.stringify(b.build(options), null, 2)}\n`);
  files.set(join(PROVISIONING_DIR, 'datasources', 'greenspace.yaml'), datasourceYaml());
  files.set(join(PROVISIONING_DIR, 'dashboards', 'greenspace.yaml'), dashboardProviderYaml());
  files.set(join(PROVISIONING_V2_DIR, 'datasources', 'greenspace.yaml'), datasourceYaml('v2'));
  files.set(join(PROVISIONING_V2_DIR, 'dashboards', 'greenspace.yaml'), dashboardProviderYaml());
  return files;
}

export function writeFiles(root: string, options: BoardOptions = DEFAULT_BOARD_OPTIONS): string[] {
  const written: string[] = [];
  for (const [path, content] of renderFiles(options)) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    written.push(path);
  }
  return written;
}

/** The dashboards/ folder of this checkout. */
export const DASHBOARDS_ROOT = dirname(fileURLToPath(import.meta.url));

/**
 * What the deployment's rules config changes in the dashboards: the tilt lines per facility
 * type are drawn where GS_RULES_CONFIG puts the rules' angles (the defaults without it).
 */
export function boardOptionsFrom(env: NodeJS.ProcessEnv): BoardOptions {
  return { tiltLimits: tiltLimitsOf(loadRulesConfig(env).facilityHealth) };
}

// `npm run dashboards [outDir]`: regenerate into dashboards/ (or outDir), with the angles of
// GS_RULES_CONFIG when it is set. The committed files are the defaults'.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(process.argv[2] ?? DASHBOARDS_ROOT);
  const logger = createLogger('info');
  try {
    const files = writeFiles(root, boardOptionsFrom(process.env));
    logger.info({ module: 'dashboards', root, files, rulesConfig: process.env.GS_RULES_CONFIG ?? null }, 'dashboards generated');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
