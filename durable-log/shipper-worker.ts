import { parentPort, workerData } from 'node:worker_threads';
import { createInfluxHttp, type InfluxTarget } from '../influx/http.ts';
import { createLogger } from '../lib/logger.ts';
import { sleep } from '../lib/sleep.ts';
import { createInfluxShipper, type ShipperLog } from './influx-shipper.ts';
import { backlogOf, isBefore, readChunk, readLines, type Cursor, type SegmentInfo } from './segments.ts';
import type { ToWorker, FromWorker, ShipperWorkerData } from './shipper-thread.ts';

/**
 * The InfluxDB shipper in its own thread: the MQTT event loop can be saturated by a
 * flood of readings without starving the HTTP requests that move them to InfluxDB.
 * It reads the segment files itself; the main thread tells it how far they are written
 * and deletes what it reports as committed.
 */
const data = workerData as ShipperWorkerData;
const port = parentPort!;
const post = (message: FromWorker): void => port.postMessage(message);

let segments: SegmentInfo[] = data.segments;
let cursor: Cursor = data.cursor;
const listeners = new Set<() => void>();

const view: ShipperLog = {
  read: (maxLines) => readLines(data.dir, segments, cursor, maxLines),
  readChunk: (maxLines) => readChunk(data.dir, segments, cursor, maxLines),
  commit(next) {
    if (!isBefore(cursor, next)) return;
    cursor = next;
    post({ type: 'commit', next });
  },
  backlog: () => backlogOf(segments, cursor, Date.now()),
  onWritten(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

const target: InfluxTarget = data.influx;
const shipper = createInfluxShipper({
  log: view,
  influx: createInfluxHttp(target),
  batchSize: data.batchSize,
  flushMs: data.flushMs,
  backoff: data.backoff,
  logger: createLogger(data.logLevel).child({ module: 'shipper' }),
  metrics: {
    pointsWritten: (n) => post({ type: 'metric', name: 'pointsWritten', value: n }),
    writeError: (kind) => post({ type: 'metric', name: 'writeError', kind }),
    writeDuration: (seconds) => post({ type: 'metric', name: 'writeDuration', value: seconds }),
    influxUp: (up) => post({ type: 'metric', name: 'influxUp', value: up ? 1 : 0 }),
  },
  onRefused: (line, message) => post({ type: 'refused', line, message }),
  onStored: data.reportStored
    ? (batch, at) => post({ type: 'stored', at, ts: Float64Array.from(batch.lines(), (l) => Number(l.slice(l.lastIndexOf(' ') + 1))) })
    : (batch) => post({ type: 'stored', at: 0, count: batch.count }),
  sleep,
  random: Math.random,
  now: () => Date.now(),
});

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'durable':
      segments = message.segments;
      // A budget drop moved the writer's cursor past ours: follow it.
      if (isBefore(cursor, message.cursor)) cursor = message.cursor;
      for (const l of listeners) l();
      break;
    case 'drain':
      void shipper.drain(message.deadlineMs).then((ok) => post({ type: 'drained', ok }));
      break;
    case 'stop':
      void shipper.stop().then(() => post({ type: 'stopped' }));
      break;
  }
});

shipper.start();
