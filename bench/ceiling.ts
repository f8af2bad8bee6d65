import '../broker/quiet-packet-debug.ts'; // before aedes loads mqtt-packet
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

/** Raw aedes with a no-op authorizePublish hook: the ceiling the full pipeline is compared with. */
export async function startCeilingBroker(): Promise<{ port: number; received: () => number; close(): Promise<void> }> {
  let received = 0;
  const aedes = await Aedes.createBroker({
    authorizePublish: (_client, packet, done) => {
      if (packet.topic.endsWith('/up')) received++;
      done(null);
    },
  });
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
