import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../lib/logger.ts';

export interface ListenerOptions {
  host: string;
  port: number;
  tlsPort?: number | undefined;
  wsPort?: number | undefined;
  wssPort?: number | undefined;
  /** PEM certificate and key, required by the TLS and WSS listeners. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Largest WebSocket message, so a frame is bounded before the MQTT scanner sees it. */
  maxMessageBytes: number;
}

export interface BoundPorts { port: number; tlsPort?: number; wsPort?: number; wssPort?: number }

/** A transport connection handed to the broker, with the peer's address. */
export type Accept = (stream: Duplex, ip: string) => void;

/**
 * Connections the kernel holds completed for us until accepted. Node's default (511) is
 * overrun by a fleet reconnecting after a restart: the rest of the SYNs are dropped and each
 * device waits out its SYN retransmission (1 s, 3 s, 7 s...). The kernel caps it at
 * net.core.somaxconn (4,096 on current kernels).
 */
const LISTEN_BACKLOG = 4_096;

const listen = (server: Server | HttpServer, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

/** MQTT over TCP always; over TLS, WebSocket and TLS WebSocket when their ports are configured. */
export async function startListeners(options: ListenerOptions, accept: Accept, logger: Logger) {
  const servers: Array<Server | HttpServer> = [];
  const sockets: WebSocketServer[] = [];
  const ports: BoundPorts = { port: 0 };
  const tlsOptions = () => {
    if (!options.tls) throw new Error('the MQTT TLS and WSS listeners need a certificate and key');
    return options.tls;
  };

  const tcp = createTcpServer((socket) => accept(socket, socket.remoteAddress ?? 'unknown'));
  servers.push(tcp);
  ports.port = await listen(tcp, options.port, options.host);

  if (options.tlsPort !== undefined) {
    const tls = createTlsServer(tlsOptions(), (socket) => accept(socket, socket.remoteAddress ?? 'unknown'));
    tls.on('tlsClientError', (error) => logger.debug({ err: error.message }, 'TLS handshake failed'));
    servers.push(tls);
    ports.tlsPort = await listen(tls, options.tlsPort, options.host);
  }

  const webSocket = async (secure: boolean, port: number): Promise<number> => {
    const http = secure ? createHttpsServer(tlsOptions()) : createHttpServer();
    http.on('request', (_req, res) => res.writeHead(426, { Upgrade: 'websocket' }).end('MQTT over WebSocket only\n'));
    const wss = new WebSocketServer({ server: http, maxPayload: options.maxMessageBytes, handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false) });
    wss.on('connection', (ws, req) => accept(createWebSocketStream(ws), req.socket.remoteAddress ?? 'unknown'));
    servers.push(http);
    sockets.push(wss);
    return listen(http, port, options.host);
  };
  if (options.wsPort !== undefined) ports.wsPort = await webSocket(false, options.wsPort);
  if (options.wssPort !== undefined) ports.wssPort = await webSocket(true, options.wssPort);

  return {
    ports,
    isListening: (): boolean => servers.every((s) => s.listening),
    async close(): Promise<void> {
      for (const wss of sockets) wss.close();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      })));
    },
  };
}
