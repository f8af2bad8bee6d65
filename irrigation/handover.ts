import type { Logger } from '../lib/logger.ts';
import type { Decision, IrrigationEvent, ZoneIrrigationState } from '../rules/irrigation/state.ts';
import type { IrrigationStore, ZoneOverride } from './store.ts';
import type { WriteQueue } from './write-queue.ts';

export interface HandoverDeps {
  states: Map<string, ZoneIrrigationState>;
  overrides: Map<string, ZoneOverride>;
  store: Pick<IrrigationStore, 'loadStates' | 'loadOverrides'>;
  writes: Pick<WriteQueue, 'settled'>;
  logger: Logger;
  /** The store is the cluster's (PostgreSQL): its state is the previous owner's (IrrigationEngineDeps.sharedStore). */
  sharedStore: boolean;
  flush: () => void;
  /** Drop the zone's cached configuration (its override changed). */
  forget: (zoneId: string) => void;
  dispatch: (zoneId: string, event: IrrigationEvent, handover?: boolean) => Decision[];
  clearWake: (zoneId: string) => void;
  /** Send the zone's valve a close, whatever its state says (the state could not be read). */
  closeValve: (zoneId: string) => void;
  /**
   * Claim the zones' communities in the shared store before reading their state
   * (irrigation/fence.ts); the zones this node may adopt. Absent: all of them.
   */
  claim?: (zoneIds: readonly string[]) => Promise<readonly string[]>;
  /** Bring the adopted zones' sensor tracks up to the readings InfluxDB holds (in the background; never blocks the takeover). */
  catchUp?: (zoneIds: readonly string[]) => void;
}

/**
 * Zones changing hands between nodes (clustered mode: their community gained or lost).
 * While a gained zone's state is being read, its events are not evaluated (`adopting`), so
 * a tick that comes in the meantime cannot decide on the state this node had before.
 */
export function createHandover(deps: HandoverDeps) {
  const { states, overrides, logger } = deps;
  const adopting = new Map<string, number>();
  // Bumped at each release: an adoption still reading when its zones are released again acts on none of them.
  const releases = new Map<string, number>();
  const mark = (zoneIds: readonly string[], by: 1 | -1) => {
    for (const zoneId of zoneIds) {
      const n = (adopting.get(zoneId) ?? 0) + by;
      if (n > 0) adopting.set(zoneId, n);
      else adopting.delete(zoneId);
    }
  };
  return {
    adopting: (zoneId: string): boolean => adopting.has(zoneId),
    /**
     * This node took the zones over (clustered: it gained their community). Each zone's state
     * and override are read again from the store — with a shared store (PostgreSQL), what the
     * previous owner last wrote. Where that state shows a run (watering, opening with its open
     * command pending, or closing), the run is closed as after a restart (`stop:restart`, a
     * close sent and retried until the valve acknowledges it). With a shared store a zone with
     * no run is left alone (no close storm when a cluster starts cold); with each node's own
     * store (GS_CLUSTER without GS_POSTGRES_URL) it gets a close anyway, since the previous
     * owner's run is not in this store. The run is closed rather than continued: what the valve did since the previous
     * owner's last write (its ack, the water given) is not in the state, the ack and effect
     * supervision was that owner's, and a cut run does not count for the minimum interval, so
     * the rules start a fresh, supervised run if the zone is still dry and in its window.
     */
    async adopt(zoneIds: readonly string[]): Promise<void> {
      if (zoneIds.length === 0) return;
      const releasedAtStart = new Map(zoneIds.map((zoneId) => [zoneId, releases.get(zoneId) ?? 0]));
      const stillOurs = (zoneId: string): boolean => (releases.get(zoneId) ?? 0) === releasedAtStart.get(zoneId);
      mark(zoneIds, 1);
      let persisted: Map<string, ZoneIrrigationState>;
      let claimed: readonly string[];
      try {
        await deps.writes.settled(); // this node's own writes first (a zone lost and gained again)
        // Claimed before the read: a write of a node that lost the lease and does not know yet is refused from now on.
        claimed = deps.claim ? await deps.claim(zoneIds) : zoneIds;
        if (claimed.length === 0) return;
        persisted = await deps.store.loadStates(claimed);
        const stored = await deps.store.loadOverrides(claimed);
        for (const zoneId of claimed) {
          const override = stored.get(zoneId);
          if (override) overrides.set(zoneId, override);
          else overrides.delete(zoneId);
          deps.forget(zoneId);
        }
      } catch (error) {
        // The store did not answer: whether the previous owner left a run open is unknown, so
        // every valve of the zones gets a close (idempotent; the valve's auto-off bounds the
        // water regardless) and the zones start afresh.
        logger.error({ err: error, zones: zoneIds.length }, 'zones taken over without their stored state: every valve closed, the zones start afresh');
        for (const zoneId of zoneIds) {
          if (!stillOurs(zoneId)) continue;
          states.delete(zoneId);
          deps.closeValve(zoneId);
        }
        return;
      } finally {
        mark(zoneIds, -1);
      }
      for (const zoneId of claimed) {
        if (!stillOurs(zoneId)) continue; // given up again while its state was read: another node's now
        const state = persisted.get(zoneId);
        if (state) states.set(zoneId, state);
        else states.delete(zoneId);
        if (state?.run) {
          logger.info({ zoneId, runId: state.run.id, phase: state.run.phase }, 'zone taken over with a run open: closed');
          deps.dispatch(zoneId, { type: 'restored' });
        } else if (!deps.sharedStore) {
          logger.info({ zoneId }, 'zone taken over: valve closed in case the previous owner left it open (its state is in its own store)');
          deps.closeValve(zoneId);
        }
      }
      // The previous owner's last readings may postdate its last write of the tracks.
      deps.catchUp?.(claimed.filter(stillOurs));
    },
    /**
     * The overrides as the shared store has them now: one set through another node's API
     * (`PUT /zones/:id/irrigation` is not forwarded to the owner) is decided with here from
     * the next refresh on. Read after this node's own queued writes, so it never reads back
     * an override older than one set here.
     */
    async refreshOverrides(): Promise<void> {
      await deps.writes.settled();
      const stored = await deps.store.loadOverrides();
      for (const zoneId of new Set([...overrides.keys(), ...stored.keys()])) {
        const next = stored.get(zoneId);
        if (JSON.stringify(next) === JSON.stringify(overrides.get(zoneId))) continue;
        if (next) overrides.set(zoneId, next);
        else overrides.delete(zoneId);
        deps.forget(zoneId);
      }
    },
    /** Another node takes the zones over: no run left open by this one (closed as after a restart), no wake timer left, the states written. */
    release(zoneIds: readonly string[]): void {
      for (const zoneId of zoneIds) {
        releases.set(zoneId, (releases.get(zoneId) ?? 0) + 1);
        deps.clearWake(zoneId);
        // Still being adopted: the state here is from before this node last lost the zone, not
        // this node's run; closing it would write that stale state over the owner's.
        if (adopting.has(zoneId)) continue;
        if (states.get(zoneId)?.run) deps.dispatch(zoneId, { type: 'restored' }, true);
      }
      deps.flush();
    },
  };
}
