import { startInfluxV2Standin } from '../influx/v2-standin.ts';

/**
 * The 2.x stand-in in a process of its own for the bench: in the bench's process it would
 * share the app's event loop and cores' accounting. Prints `{"url": …}` once listening;
 * GS_BENCH_STANDIN: `{ upstream, org, buckets, token }`.
 */
const job = JSON.parse(process.env.GS_BENCH_STANDIN ?? '{}') as { upstream: string; org: string; buckets: string[]; token: string };
const standin = await startInfluxV2Standin({ upstream: job.upstream, org: job.org, buckets: job.buckets, tokens: { [job.token]: { write: true, createDbrp: true } } });
process.stdout.write(`${JSON.stringify({ url: standin.url })}\n`);
process.on('SIGTERM', () => void standin.close().then(() => process.exit(0)));
