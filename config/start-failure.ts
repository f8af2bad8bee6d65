import type { Config } from './config.ts';
import { ENV_NAMES } from './config.ts';

/** What main.ts prints when the app did not start: the setting to change where one is at fault. */
export interface StartFailure {
  /** One line for the operator. */
  message: string;
  /** The stack too: an error nobody foresaw, to report. */
  unexpected: boolean;
}

interface SystemError { code?: string; port?: number; address?: string; syscall?: string }

/**
 * Explain a failed start in the operator's terms. A port another process holds, or one
 * below 1024 without the right to bind it, names its setting (`GS_HTTP_PORT 3000 is in
 * use`); the rest keep their own message, and an error with no code is marked unexpected.
 */
export function describeStartFailure(error: unknown, config: Pick<Config, 'httpPort' | 'httpHost' | 'mqttPort' | 'mqttHost' | 'mqttTlsPort' | 'mqttWsPort' | 'mqttWssPort'>): StartFailure {
  const feature = (error as { feature?: string }).feature;
  const cause = ((error as { cause?: unknown }).cause ?? error) as Error & SystemError;
  const where = feature ? ` (${feature})` : '';
  if ((cause.code === 'EADDRINUSE' || cause.code === 'EACCES') && cause.syscall === 'listen') {
    const setting = portSetting(cause.port, feature, config);
    const host = cause.address ?? (setting === ENV_NAMES.httpPort ? config.httpHost : config.mqttHost);
    const name = setting ? `${setting} ${cause.port}` : `port ${cause.port}`;
    const fix = setting ? `set ${setting} to a free port` : 'free the port';
    return cause.code === 'EADDRINUSE'
      ? { message: `${name} is in use on ${host}: another process listens there; stop it or ${fix}`, unexpected: false }
      : { message: `${name} on ${host} needs more rights: ports below 1024 need root or CAP_NET_BIND_SERVICE; ${fix} above 1023`, unexpected: false };
  }
  const coded = typeof cause.code === 'string';
  return { message: `${cause.message ?? String(cause)}${where}`, unexpected: !coded };
}

function portSetting(port: number | undefined, feature: string | undefined, config: Parameters<typeof describeStartFailure>[1]): string | undefined {
  if (feature === 'api') return ENV_NAMES.httpPort;
  const candidates = [['mqttPort', config.mqttPort], ['mqttTlsPort', config.mqttTlsPort], ['mqttWsPort', config.mqttWsPort], ['mqttWssPort', config.mqttWssPort], ['httpPort', config.httpPort]] as const;
  const match = candidates.find(([, value]) => value !== undefined && value !== 0 && value === port);
  return match ? ENV_NAMES[match[0]] : undefined;
}
