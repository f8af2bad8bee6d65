import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Readable lines for a person at a terminal, JSON for everything else (GS_LOG_FORMAT `auto`). */
export function resolveLogFormat(format: LogFormat, isTTY: boolean | undefined): 'json' | 'pretty' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

/**
 * The one root logger of a process; modules take `logger.child({ module })`. Pretty lines
 * are formatted in-process and written synchronously (no transport thread), so the last
 * lines before an exit are not lost.
 */
export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream, format: 'json' | 'pretty' = 'json'): Logger {
  const options = { level, base: { app: 'greenspace' } };
  if (format === 'pretty') {
    return pino(options, pretty({ sync: true, colorize: destination === undefined && process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', destination: destination ?? 1 }));
  }
  return pino(options, destination);
}
