import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A pass-through HTTP proxy in front of a real influxd that keeps every line-protocol line
 * influxd accepted (a 2xx answer to POST /write). InfluxDB overwrites a point with the same
 * series and timestamp, so its own counts cannot show a point written twice; the lines that
 * reached it can. When influxd is unreachable the proxy drops the client's connection, so
 * the app sees what it would see without the proxy: no answer at all.
 */
export interface WriteTap {
  url: string;
  /** Every line influxd accepted, in arrival order, optionally only those `keep` selects. */
  lines(keep?: (line: string) => boolean): string[];
  close(): Promise<void>;
}

export async function startWriteTap(upstreamUrl: string): Promise<WriteTap> {
  const upstream = new URL(upstreamUrl);
  const accepted: string[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const forward = request({
        host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host },
      }, (answer) => {
        void readBody(answer).then((reply) => {
          const status = answer.statusCode ?? 502;
          if (req.method === 'POST' && req.url?.startsWith('/write') && status >= 200 && status < 300) {
            const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
            for (const line of text.split('\n')) if (line.trim() !== '' && !line.startsWith('#')) accepted.push(line);
          }
          res.writeHead(status, answer.headers);
          res.end(reply);
        }, () => res.destroy());
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    }, () => res.destroy());
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lines: (keep) => (keep ? accepted.filter(keep) : [...accepted]),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** The series key and timestamp of a line: two lines with the same key are one InfluxDB point. */
export function pointKey(line: string): string {
  const seriesEnd = line.search(/(?<!\\) /);
  return `${line.slice(0, seriesEnd)} ${line.slice(line.lastIndexOf(' ') + 1)}`;
}

/** How many times each point was written, only the points written more than once. */
export function writtenTwice(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(pointKey(line), (counts.get(pointKey(line)) ?? 0) + 1);
  return new Map([...counts].filter(([, n]) => n > 1));
}
