import { runLoad, type LoadOptions } from '../firmware-sim/load.ts';
import { runRawLoad } from '../firmware-sim/raw-load.ts';

/**
 * The benchmark's load generator process: the simulator's load mode, with the minimal
 * client (firmware-sim/raw-load.ts) or, with `client: 'mqttjs'`, mqtt.js (firmware-sim/load.ts). Prints one JSON line: the load report plus `startAt`, the wall-clock
 * time publishing began (after every connection was up).
 */
const job = JSON.parse(process.env.GS_BENCH_JOB ?? '{}') as Omit<LoadOptions, 'signal'> & { client?: 'raw' | 'mqttjs' };

const t0 = Date.now();
// From here: Node's start and tsx compiling this worker's imports are not load generation.
const cpu0 = process.cpuUsage();
(job.client === 'mqttjs' ? runLoad(job) : runRawLoad(job)).then(
  (report) => {
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({ ...report, startAt: t0 + report.connectMs, cpuS: (cpu.user + cpu.system) / 1e6 })}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
