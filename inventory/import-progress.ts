import cliProgress from 'cli-progress';
import type { ImportStep } from './apply.ts';

const LABELS: Record<ImportStep['phase'] | 'reading', string> = {
  reading: '读取文件 reading the file',
  planning: '比对登记 planning',
  hashing: '生成设备密钥 device secrets',
  writing: '写入登记 writing',
  refreshing: '刷新 refreshing',
  done: '完成 done',
};

/**
 * The CLI import's progress bar, on a terminal only: when stdout is not a TTY (piped,
 * redirected, under CI) nothing is drawn, and the report lines stay the whole output.
 * Drawn on stderr, so the report on stdout never has a bar's remains in it.
 */
export function createImportProgress(options: { tty: boolean; stream?: NodeJS.WritableStream }) {
  if (!options.tty) return { step: (_step: ImportStep | 'reading') => undefined, stop: () => undefined, drawn: false };
  const bar = new cliProgress.SingleBar({
    format: '{phase} {bar} {detail}',
    stream: options.stream ?? process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    noTTYOutput: false,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    drawn: true,
    step(step: ImportStep | 'reading'): void {
      const phase = step === 'reading' ? 'reading' : step.phase;
      const total = step === 'reading' ? 0 : step.total;
      const done = step === 'reading' ? 0 : step.phase === 'hashing' ? step.done : total;
      const payload = { phase: LABELS[phase], detail: phase === 'hashing' ? `${done}/${total}` : '' };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
        return;
      }
      if (total > 0) bar.setTotal(total);
      bar.update(done, payload);
    },
    /** Idempotent: called when the import ends and again at exit. */
    stop(): void {
      if (started) bar.stop();
      started = false;
    },
  };
}
