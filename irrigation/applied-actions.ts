import { z } from 'zod';
import { ZoneAnswerBody, type ZoneAnswer } from '../contracts/zone-action.ts';
import type { Logger } from '../lib/logger.ts';
import type { Sql } from '../registry/sql/port.ts';

/** How long an applied id is kept: far past the receiving node's one repeat (2 s) and its 5 s wait. */
export const APPLIED_KEPT_MS = 10 * 60_000;
/** Old rows are deleted at most this often, by the node claiming. */
const PRUNE_EVERY_MS = 60_000;

const StoredAnswer = z.strictObject({ status: z.number().int().min(200).max(599), body: ZoneAnswerBody });

/**
 * The correlation ids of forwarded zone actions applied in the cluster, in the shared store
 * (PostgreSQL, registry/pg-migrations/031), as the `AppliedActions` port of
 * cluster/zone-forward.ts: an owner claims an id before running its action (`claim`, one row
 * per id by the primary key), records the answer after (`answer`), and a
 * node that finds the id claimed answers from the record (`find`) instead of running it again
 * — the owner's memory is its own, so a repeat that reaches a new owner after the community
 * changed hands would otherwise run twice. Rows older than ten minutes are deleted.
 */
export function createAppliedActions(sql: Sql, deps: { nodeId: string; logger: Logger; now?: () => number }): {
  claim(id: string, community: string): Promise<boolean>; answer(id: string, answer: ZoneAnswer): Promise<void>; unclaim(id: string): Promise<void>;
  find(id: string): Promise<{ state: 'answered'; answer: ZoneAnswer } | { state: 'pending' } | undefined>;
} {
  const now = deps.now ?? Date.now;
  let prunedAt = 0;
  const prune = async (at: number) => {
    if (at - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = at;
    try {
      await sql.run('DELETE FROM zone_action_answers WHERE claimed_at < ?', [at - APPLIED_KEPT_MS]);
    } catch (error) {
      deps.logger.warn({ err: error }, 'old zone action answers not deleted; retried at the next claim');
    }
  };
  return {
    /** True when this node is the first to claim `id` (it runs the action); false when another did. */
    async claim(id: string, community: string): Promise<boolean> {
      const at = now();
      const row = await sql.one<{ id: string }>(
        'INSERT INTO zone_action_answers (id, community, node, answer, claimed_at) VALUES (?, ?, ?, NULL, ?) ON CONFLICT (id) DO NOTHING RETURNING id',
        [id, community, deps.nodeId, at]);
      await prune(at);
      return row !== undefined;
    },
    /** The action ran here: its answer, for a repeat that reaches another node. */
    async answer(id: string, answer: ZoneAnswer): Promise<void> {
      await sql.run('UPDATE zone_action_answers SET answer = ? WHERE id = ?', [JSON.stringify(answer), id]);
    },
    /** The claim is given back without running (this node no longer owns the zone): the owner may claim it. */
    async unclaim(id: string): Promise<void> {
      await sql.run('DELETE FROM zone_action_answers WHERE id = ? AND answer IS NULL AND node = ?', [id, deps.nodeId]);
    },
    /** What the record has of an id claimed by another node (undefined: no row, e.g. deleted meanwhile). */
    async find(id) {
      const row = await sql.one<{ answer: string | null }>('SELECT answer FROM zone_action_answers WHERE id = ?', [id]);
      if (!row) return undefined;
      if (row.answer === null) return { state: 'pending' };
      const parsed = StoredAnswer.safeParse(JSON.parse(row.answer));
      if (!parsed.success) {
        deps.logger.error({ id, issues: parsed.error.issues.slice(0, 3) }, 'stored zone action answer unreadable: treated as pending');
        return { state: 'pending' };
      }
      return { state: 'answered', answer: parsed.data };
    },
  };
}
