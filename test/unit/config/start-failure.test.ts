import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeStartFailure } from '../../../config/start-failure.ts';
import { FeatureStartError } from '../../../app/features.ts';

const config = { httpPort: 3000, httpHost: '0.0.0.0', mqttPort: 1883, mqttHost: '0.0.0.0', mqttTlsPort: 8883, mqttWsPort: undefined, mqttWssPort: undefined };

/** The error Node gives when a port is taken, from a real listen. */
async function listenError(port: number): Promise<Error> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', resolve);
    server.listen(port, '127.0.0.1');
  });
}

describe('describeStartFailure', () => {
  it('names the HTTP port setting when the API cannot listen', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const failure = describeStartFailure(new FeatureStartError('api', await listenError(port)), { ...config, httpPort: port });
      expect(failure).toEqual({ message: `GS_HTTP_PORT ${port} is in use on 127.0.0.1: another process listens there; stop it or set GS_HTTP_PORT to a free port`, unexpected: false });
    } finally {
      holder.close();
    }
  });

  it('finds which MQTT listener a taken port belongs to', () => {
    const taken = Object.assign(new Error('listen EADDRINUSE: address already in use 0.0.0.0:8883'), { code: 'EADDRINUSE', syscall: 'listen', port: 8883, address: '0.0.0.0' });
    expect(describeStartFailure(new FeatureStartError('mqtt', taken), config).message).toBe('GS_MQTT_TLS_PORT 8883 is in use on 0.0.0.0: another process listens there; stop it or set GS_MQTT_TLS_PORT to a free port');
    const denied = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:1883'), { code: 'EACCES', syscall: 'listen', port: 1883, address: '0.0.0.0' });
    expect(describeStartFailure(new FeatureStartError('mqtt', denied), config).message).toMatch(/^GS_MQTT_PORT 1883 on 0.0.0.0 needs more rights: .*CAP_NET_BIND_SERVICE/);
  });

  it('keeps a coded error\'s own message, and marks an uncoded one unexpected (its stack is printed)', () => {
    const locked = Object.assign(new Error('data directory /srv/gs is in use by pid 12 (server)'), { code: 'data_dir_locked' });
    expect(describeStartFailure(new FeatureStartError('data-dir', locked), config)).toEqual({ message: 'data directory /srv/gs is in use by pid 12 (server) (data-dir)', unexpected: false });
    expect(describeStartFailure(new FeatureStartError('health', new TypeError('x is undefined')), config)).toEqual({ message: 'x is undefined (health)', unexpected: true });
  });
});
