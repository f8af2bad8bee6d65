import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMode =
  | { type: 'ok'; body: (lat: number, lon: number) => unknown }
  | { type: 'malformed' }
  | { type: 'oversize'; bytes: number; declared: boolean }
  | { type: 'status'; status: number }
  | { type: 'hang' };

/**
 * A weather service on loopback (real HTTP), standing in for Open-Meteo. Its behaviour is
 * switched between requests; it records what was asked.
 */
export async function startFakeWeather(initial: FakeMode) {
  let mode = initial;
  const requests: URL[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(url);
    switch (mode.type) {
      case 'ok': {
        const body = JSON.stringify(mode.body(Number(url.searchParams.get('latitude')), Number(url.searchParams.get('longitude'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        return;
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"latitude": 45.6, "hourly": {"time": [1, 2], "precipitation": "lots"}}');
        return;
      case 'oversize': {
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        res.writeHead(200, { 'content-type': 'application/json', ...(mode.declared ? { 'content-length': String(mode.bytes) } : {}) });
        let sent = 0;
        const pump = () => {
          while (sent < (mode as { bytes: number }).bytes) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      case 'status':
        res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('upstream model run failed');
        return;
      case 'hang':
        hanging.add(res); // headers never sent
    }
  });
  server.on('clientError', () => undefined);
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/forecast`,
    requests,
    set(next: FakeMode): void {
      mode = next;
    },
    async stop(): Promise<void> {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
}
