// Worker threads do not inherit tsx's loader. Compiled to JavaScript, the worker's module
// sits beside this file as parse-worker.js and loads as it is; run from TypeScript (tsx,
// as `npm start` and the tests do), it is loaded through tsx's API.
import { existsSync } from 'node:fs';

const compiled = new URL('./parse-worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('./parse-worker.ts', import.meta.url);
}
