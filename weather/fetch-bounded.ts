import { err, ok, type Result } from '../lib/result.ts';

export type FetchFailure =
  | { kind: 'timeout'; message: string }
  | { kind: 'too_large'; message: string }
  | { kind: 'network'; message: string }
  | { kind: 'http_status'; status: number; message: string };

export interface BoundedFetchOptions {
  /** The whole exchange, body included: a service that trickles its answer is as dead as a silent one. */
  timeoutMs: number;
  maxBytes: number;
  /** Aborts the exchange from outside (the feed stopping); reported as a network failure. */
  signal?: AbortSignal;
}

/**
 * GET a text body with a deadline and a size limit. Never throws: every way it can go
 * wrong is a value naming what happened. A body past `maxBytes` (declared or streamed)
 * is cut off and the connection dropped, so a runaway answer costs at most that much memory.
 */
export async function fetchBounded(url: string, options: BoundedFetchOptions): Promise<Result<string, FetchFailure>> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort);
  const where = new URL(url).host;
  try {
    const response = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' }, redirect: 'follow' });
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > options.maxBytes) {
      controller.abort();
      return err({ kind: 'too_large', message: `${where} announced ${declared} bytes, more than the ${options.maxBytes} allowed` });
    }
    const body = await readCapped(response, options.maxBytes, controller);
    if (body === undefined) return err({ kind: 'too_large', message: `${where} sent more than the ${options.maxBytes} bytes allowed` });
    if (!response.ok) {
      // The service's own words help (Open-Meteo says why it refused), a page of HTML does not.
      const excerpt = body.slice(0, 200).replace(/\s+/g, ' ');
      return err({ kind: 'http_status', status: response.status, message: `${where} answered HTTP ${response.status}: ${excerpt}` });
    }
    return ok(body);
  } catch (error) {
    if (timedOut) return err({ kind: 'timeout', message: `${where} did not answer within ${options.timeoutMs} ms` });
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return err({ kind: 'network', message: `${where}: ${cause?.code ?? cause?.message ?? (error as Error).message}` });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function readCapped(response: Response, maxBytes: number, controller: AbortController): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
