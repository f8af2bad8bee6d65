import { ENV_NAMES, type Config } from './config.ts';
import { libuvThreads, threadpoolSizeFor } from './threadpool-size.cjs';

export interface ThreadpoolCheck {
  /** The threads libuv started (it read UV_THREADPOOL_SIZE once, before main.ts ran). */
  threads: number;
  /** The threads the configuration asks for. */
  wanted: number;
  problems: string[];
}

/**
 * The thread pool this process got against the one the configuration asks for. Nothing
 * here can change the pool: it started before main.ts was evaluated (see
 * config/threadpool-preload.cjs), so a mismatch is a start-up problem, named with the fix.
 * The operator's own UV_THREADPOOL_SIZE wins over a derived size, as long as it leaves
 * threads beside the password checks.
 */
export function checkThreadpool(config: Config, uvThreadpoolSize: string | undefined): ThreadpoolCheck {
  const wanted = threadpoolSizeFor(config.threadpoolSize, config.mqttAuthConcurrency);
  const threads = libuvThreads(uvThreadpoolSize);
  const check = (problems: string[]): ThreadpoolCheck => ({ threads, wanted, problems });
  if (threads === wanted) return check([]);
  const asks = config.threadpoolSize === undefined
    ? `${ENV_NAMES.mqttAuthConcurrency}=${config.mqttAuthConcurrency} asks for ${wanted} libuv threads`
    : `${ENV_NAMES.threadpoolSize}=${config.threadpoolSize} asks for ${wanted} libuv threads`;
  if (uvThreadpoolSize === undefined) {
    return check([
      `${asks}, but this process started libuv's default ${threads} before main.ts ran: start it with npm start, `
      + `which preloads config/threadpool-preload.cjs (or pass --require ./config/threadpool-preload.cjs to node or tsx), or set UV_THREADPOOL_SIZE=${wanted}`,
    ]);
  }
  if (config.threadpoolSize !== undefined) {
    return check([`${asks}, but UV_THREADPOOL_SIZE=${uvThreadpoolSize} is set and libuv obeys it (${threads} threads): set one of the two`]);
  }
  if (threads <= config.mqttAuthConcurrency) {
    return check([
      `${ENV_NAMES.mqttAuthConcurrency}: ${config.mqttAuthConcurrency} must be below the libuv thread pool (UV_THREADPOOL_SIZE=${uvThreadpoolSize}: ${threads} threads): `
      + 'password checks on every thread would hold the durable log\'s writes, and every QoS 1 PUBACK, behind a reconnect storm',
    ]);
  }
  return check([]);
}
