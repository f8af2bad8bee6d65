// Worker threads do not inherit tsx's loader, so the worker's entry loads its TypeScript
// module through tsx's API (the same transform `npm start` uses).
import { tsImport } from 'tsx/esm/api';

await tsImport('./shipper-worker.ts', import.meta.url);
