import type { ChildProcess } from 'node:child_process';

/**
 * A server the app or its tests spawned (influxd, redis-server, postgres): whether it
 * exited, waiting until it answers, and stopping it. One place for what each of them did
 * alike: a start that fails says whether the binary could not run or the server exited
 * before answering; a stop sends its signal, then SIGKILL after 10 s.
 */
export function superviseServer(child: ChildProcess, name: string) {
  let exited: number | string | null | undefined;
  let spawnError: Error | undefined;
  const gone = new Promise<void>((resolve) => child.once('exit', (code, signal) => { exited = code ?? signal; resolve(); }));
  child.once('error', (error) => { exited = exited ?? -1; spawnError = error; }); // e.g. not executable

  return {
    /**
     * Resolves once `answers()` is true; throws if the server exits first or the time runs
     * out (killing it then). `where` names its address, `seeMore` where to look (its log).
     */
    async untilAnswering(answers: () => Promise<boolean>, o: { where: string; timeoutMs: number; seeMore: () => string; pollMs?: number }): Promise<void> {
      const deadline = Date.now() + o.timeoutMs;
      while (!(await answers())) {
        if (exited !== undefined) throw new Error(`${name} ${spawnError ? `could not start (${spawnError.message})` : `exited (${exited})`} before answering; ${o.seeMore()}`);
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`${name} did not answer on ${o.where} in time; ${o.seeMore()}`);
        }
        await new Promise((r) => setTimeout(r, o.pollMs ?? 50));
      }
    },
    /** Send `signal` and wait for the exit; SIGKILL if it has not gone in 10 s. */
    async stopWith(signal: NodeJS.Signals): Promise<void> {
      if (exited !== undefined) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
