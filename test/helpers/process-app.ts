// The app as a real process: shared with the benchmarks (bench/failover.ts), which may not import test/.
export { spawnApp, type AppProcess } from '../../bench/app-process.ts';
