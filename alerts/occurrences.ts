import type { AlertSignal } from '../contracts/alert.ts';

/**
 * The details of an active alert after its condition was signalled again (a repeat, a
 * worse severity, or a reopen): the first occurrence's measured values stay at the top
 * level — the message and the ledger state them, and a resolution notice must not lose
 * the 6° the pavilion was knocked by — the most recent occurrence goes under `latest`
 * (with its time and message), and `occurrences` counts them all. Bookkeeping of a sticky
 * alert's recovered condition is dropped: the condition is back. See contracts/alert.ts
 * `currentDetails` for the values as they stand now.
 */
export function foldOccurrence(
  existing: Record<string, unknown> | null | undefined,
  signal: Extract<AlertSignal, { action: 'raise' }>,
): Record<string, unknown> {
  const { conditionClearedAt: _c, clearReason: _r, latest: _l, ...first } = existing ?? {};
  const occurrences = Number(first.occurrences ?? 1) + 1;
  return { ...first, occurrences, latest: { ...signal.details, at: signal.at, message: signal.message } };
}
