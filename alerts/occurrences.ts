import type { AlertSignal } from '../contracts/alert.ts';
import { CURRENT_STATE_KINDS } from './kinds.ts';

/**
 * The details of an active alert after its condition was signalled again (a repeat, a
 * worse severity, or a reopen): the first occurrence's measured values stay at the top
 * level — the message and the ledger state them, and a resolution notice must not lose
 * the 6° the pavilion was knocked by — the most recent occurrence goes under `latest`
 * (with its time and message), and `occurrences` counts them all. Bookkeeping of a sticky
 * alert's recovered condition is dropped: the condition is back. See contracts/alert.ts
 * `currentDetails` for the values as they stand now.
 *
 * A kind whose details are a changing state (kinds.ts CURRENT_STATE_KINDS: the devices behind
 * an offline gateway) is the other way round: the top level is the latest occurrence's values,
 * a reader of `details.devices` gets the devices silent now, and the first occurrence's values
 * are kept under `first`.
 */
export function foldOccurrence(
  existing: Record<string, unknown> | null | undefined,
  signal: Extract<AlertSignal, { action: 'raise' }>,
): Record<string, unknown> {
  const { conditionClearedAt: _c, clearReason: _r, latest: _l, ...top } = existing ?? {};
  const occurrences = Number(top.occurrences ?? 1) + 1;
  const latest = { ...signal.details, at: signal.at, message: signal.message };
  if (!CURRENT_STATE_KINDS.has(signal.kind)) return { ...top, occurrences, latest };
  // Before its first repeat, the top level is the first occurrence (less the bookkeeping).
  const { first: kept, occurrences: _o, reopened: _re, ...firstValues } = top;
  return { ...top, ...signal.details, occurrences, latest, first: kept ?? firstValues };
}
