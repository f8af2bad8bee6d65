import type { Db } from '../registry/db.ts';
import { Team } from '../contracts/team.ts';

/** The port the notifier reads teams through: the inventory's (registry/city.ts teamsFor), plus the notify config's. */
export type TeamsFor = (communityId: string) => Team[];

export type TeamStore = ReturnType<typeof createSqliteTeams>;

/**
 * The teams the notify config adds beside the inventory's (`teams:` in GS_NOTIFY_CONFIG), in
 * SQLite (notify_teams), upserted at every start; where an id is in both, the inventory's
 * team wins (service.ts combineTeams). A team dropped from the config stays in the table:
 * nothing deletes it. Teams are few, so they are held in memory and re-read only after a change.
 */
export function createSqliteTeams(db: Db) {
  let cache: Team[] | undefined;
  const load = (): Team[] => (cache ??= (db.prepare('SELECT team FROM notify_teams ORDER BY id').all() as Array<{ team: string }>).map((r) => Team.parse(JSON.parse(r.team))));
  return {
    upsert(team: Team): void {
      db.prepare('INSERT INTO notify_teams (id, team) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET team = excluded.team').run(team.id, JSON.stringify(Team.parse(team)));
      cache = undefined;
    },
    remove(id: string): boolean {
      cache = undefined;
      return db.prepare('DELETE FROM notify_teams WHERE id = ?').run(id).changes > 0;
    },
    list: (): Team[] => load(),
    teamsFor: ((communityId) => load().filter((t) => t.communities.includes(communityId))) satisfies TeamsFor,
  };
}

/** A fixed list (tests, or teams given in config only). */
export const staticTeams = (teams: readonly Team[]): TeamsFor => (communityId) => teams.filter((t) => t.communities.includes(communityId));
