/** The replicated tables, their keys and a row's shapes: shared by the apply (local.ts) and its foreign-key check (foreign-keys.ts). */

/**
 * The registry tables replicated through PostgreSQL, with their key columns. The rest of the
 * SQLite file is this node's own: dead letters, the weather cache, the rollup cursor, and the
 * alert, irrigation and notification tables, which have their own PostgreSQL stores.
 */
export const REPLICATED_TABLES: Readonly<Record<string, readonly string[]>> = {
  districts: ['id'],
  sub_districts: ['id'],
  communities: ['id'],
  zones: ['id'],
  facilities: ['id'],
  teams: ['id'],
  team_communities: ['team_id', 'community_id'],
  technicians: ['id'],
  devices: ['id'],
  api_tokens: ['id'],
  service_accounts: ['id'],
  users: ['name'],
  user_sessions: ['id_hash'],
};

export type RowValue = string | number | null;
export type RowImage = Record<string, RowValue>;
/** One row as PostgreSQL's registry_rows holds it: `row` null for a deleted one. */
export interface RemoteRow { tbl: string; pk: string; row: RowImage | null; seq: number; origin: string }
export interface RowKey { tbl: string; pk: string }
/** What an apply changed, by table: the keys (JSON arrays, as `pk`). */
export type AppliedChanges = Map<string, string[]>;

/** A key's canonical text: JSON.stringify of its values (SQLite's json_array may escape differently). */
export const keyText = (values: readonly unknown[]): string => JSON.stringify(values);
