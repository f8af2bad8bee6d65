/**
 * The registry tables an inventory import owns, parents before children. Each is
 * diffed row by row against the file; table and column names are constants here, never
 * input, so building SQL from them is safe.
 */
export type SqlValue = string | number | null;
/** A desired row; `undefined` means "the file does not say: keep the registry's value". */
export type Row = Record<string, SqlValue | undefined>;

export interface TableSpec {
  table: TableName;
  key: readonly string[];
  /** Compared and written columns besides the key. */
  columns: readonly string[];
  /** Entities carry retired_at and are retired when missing; link rows are deleted. */
  retirable: boolean;
}

export const TABLE_NAMES = [
  'districts', 'sub_districts', 'communities', 'zones', 'facilities', 'devices', 'teams', 'team_communities', 'technicians',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export const TABLES: readonly TableSpec[] = [
  { table: 'districts', key: ['id'], columns: ['name', 'retired_at'], retirable: true },
  { table: 'sub_districts', key: ['id'], columns: ['district_id', 'name', 'retired_at'], retirable: true },
  { table: 'communities', key: ['id'], columns: ['district_id', 'sub_district_id', 'name', 'retired_at'], retirable: true },
  {
    table: 'zones', key: ['id'], retirable: true,
    columns: ['community_id', 'name', 'plant', 'mode', 'soil', 'moisture_low', 'moisture_high', 'valve_id', 'windows', 'area_m2', 'root_depth_mm', 'flow_lpm', 'retired_at'],
  },
  {
    table: 'facilities', key: ['id'], retirable: true,
    columns: ['community_id', 'name', 'type', 'lat', 'lon', 'location', 'baseline_pitch', 'baseline_roll', 'tilt_warning_deg', 'tilt_critical_deg', 'retired_at'],
  },
  {
    table: 'devices', key: ['id'], retirable: true,
    columns: ['kind', 'community_id', 'zone_id', 'facility_id', 'dev_eui', 'lorawan_application', 'profile', 'report_interval_s', 'gateway_id', 'retired_at'],
  },
  { table: 'teams', key: ['id'], columns: ['name', 'channels', 'supervisor_channels', 'quiet_hours', 'retired_at'], retirable: true },
  { table: 'team_communities', key: ['team_id', 'community_id'], columns: [], retirable: false },
  { table: 'technicians', key: ['id'], columns: ['team_id', 'name', 'phone', 'email', 'retired_at'], retirable: true },
];

export type DesiredRows = Record<TableName, Row[]>;

export const keyOf = (spec: TableSpec, row: Row): string => spec.key.map((k) => String(row[k])).join('/');
