import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { BoardOptions } from '../limits.ts';
import { cityOverview } from './city-overview.ts';
import { community } from './community.ts';
import { deviceFleet } from './device-fleet.ts';
import { facilityHealth } from './facility-health.ts';
import { ingest } from './ingest.ts';
import { operations } from './operations.ts';

/** Every dashboard, with the Grafana folder it is provisioned into (foldersFromFilesStructure). */
export const BOARDS: ReadonlyArray<{ folder: 'City' | 'Operations'; file: string; build: (options?: BoardOptions) => Dashboard }> = [
  { folder: 'City', file: 'city-overview.json', build: cityOverview },
  { folder: 'City', file: 'community.json', build: community },
  { folder: 'City', file: 'facility-health.json', build: facilityHealth },
  { folder: 'Operations', file: 'device-fleet.json', build: deviceFleet },
  { folder: 'Operations', file: 'operations.json', build: operations },
  { folder: 'Operations', file: 'ingest.json', build: ingest },
];
