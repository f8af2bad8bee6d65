// Worker threads do not inherit tsx's loader, so under tsx (`npm start`, the tests) the
// worker's entry loads its TypeScript module through tsx's API. The compiled build starts
// parse-worker.js directly (lib/worker-entry.ts).
import { tsImport } from 'tsx/esm/api';

await tsImport('./parse-worker.ts', import.meta.url);
