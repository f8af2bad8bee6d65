import { runLoad, type LoadOptions } from '../firmware-sim/load.ts';

/**
 * The benchmark's load generator process: the simulator's load mode (firmware-sim/load.ts)
 * on its own core. Prints one JSON line: the load report plus `startAt`, the wall-clock
 * time publishing began (after every connection was up).
 */
const job = JSON.parse(process.env.GS_BENCH_JOB ?? '{}') as Omit<LoadOptions, 'signal'>;

const t0 = Date.now();
// From here: Node's start and tsx compiling this worker's imports are not load generation.
const cpu0 = process.cpuUsage();
runLoad(job).then(
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
