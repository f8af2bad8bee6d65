/**
 * A worker thread's entry file. Worker threads do not inherit tsx's loader, so under tsx
 * (`npm start`, the tests) the entry is a small `<name>-boot.mjs` that loads the TypeScript
 * module through tsx's API; in the compiled build (`npm run build`, `npm run start:prod`)
 * the caller is a `.js` file and the entry is the compiled `<name>.js` beside it.
 */
export function workerEntry(callerUrl: string, name: string): URL {
  return callerUrl.endsWith('.js') ? new URL(`./${name}.js`, callerUrl) : new URL(`./${name}-boot.mjs`, callerUrl);
}
