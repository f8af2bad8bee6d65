import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { FleetSpec } from './spec.ts';

/** Read a fleet file (YAML or JSON); every problem is named with its path. */
export function loadFleetFile(path: string): FleetSpec {
  const parsed = FleetSpec.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid fleet file ${path}:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
