import type { Db } from '../registry/db.ts';
import type { Alert } from '../contracts/alert.ts';
import type { Logger } from '../lib/logger.ts';
import type { PlaceNames } from './message.ts';

export type DescribePlace = (alert: Alert) => PlaceNames;

/**
 * Names for the message's "where" line, read from the registry tables (districts,
 * communities, facilities, zones). A missing name leaves the id alone in the text.
 */
export function createSqlitePlaceNames(db: Db, logger: Logger): DescribePlace {
  const district = db.prepare('SELECT name FROM districts WHERE id = ?');
  const community = db.prepare('SELECT name FROM communities WHERE id = ?');
  const facility = db.prepare('SELECT name FROM facilities WHERE id = ?');
  const zone = db.prepare('SELECT name FROM zones WHERE id = ?');
  const name = (stmt: typeof district, id: string | null): string | undefined =>
    id ? (stmt.get(id) as { name: string } | undefined)?.name : undefined;
  return (alert) => {
    try {
      return {
        district: name(district, alert.districtId),
        community: name(community, alert.communityId),
        subject: name(alert.kind.startsWith('facility_') ? facility : zone, alert.subject),
      };
    } catch (error) {
      logger.warn({ err: error, alertId: alert.id }, 'place names unavailable');
      return {};
    }
  };
}
