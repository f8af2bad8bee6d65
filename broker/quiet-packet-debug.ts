import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * mqtt-packet traces every step of parsing a packet through `debug`, about fifteen calls a
 * packet. A disabled `debug` logger still gathers its arguments into a fresh array at every
 * call: a tenth of everything the process allocated under a flood of readings (a sampling
 * heap profile of `npm run bench`), so more scavenges, and ~3 % of the main thread. Unless
 * DEBUG names them when the process starts, mqtt-packet's loggers are plain no-op functions;
 * every other package's `debug` is untouched.
 *
 * mqtt-packet creates its loggers once, when it is first loaded, so this module must be
 * evaluated before that: broker/create-broker.ts and bench/ceiling.ts import it before
 * aedes, and a test checks it takes effect in the app's own import order.
 */
const require = createRequire(import.meta.url);
const quieted = new Set<string>();

type CreateDebug = ((namespace: string) => { enabled: boolean }) & Record<string, unknown>;
const QUIETS = Symbol.for('greenspace.quietsMqttPacket');

function install(): void {
  const debugPath = require.resolve('debug', { paths: [dirname(require.resolve('mqtt-packet'))] });
  const createDebug = require(debugPath) as CreateDebug;
  const cached = require.cache[debugPath];
  if (!cached || (cached.exports as Record<symbol, unknown>)[QUIETS]) return;
  const noop = (): void => undefined;
  // A proxy, not a copy: every property read or written (`debug.log = …`, `debug.names`
  // after enable(), formatters, inspectOpts) is the module's own, as other packages expect.
  // Only a call is intercepted.
  cached.exports = new Proxy(createDebug, {
    apply(target, thisArg, args: unknown[]) {
      const logger = Reflect.apply(target, thisArg, args) as { enabled: boolean };
      const namespace = args[0];
      if (typeof namespace !== 'string' || !namespace.startsWith('mqtt-packet:') || logger.enabled) return logger;
      quieted.add(namespace);
      return noop;
    },
    get: (target, key, receiver) => (key === QUIETS ? true : Reflect.get(target, key, receiver)),
  });
}

install();

/** mqtt-packet's namespaces that were given a no-op logger (tests). */
export const quietedNamespaces = (): string[] => [...quieted].sort();
