/**
 * The generated Grafana dashboards' uids and slugs: the boards (dashboards/boards/) are built
 * with these, and the web pages link to them, so a page's link cannot drift from the board.
 * A slug is Grafana's for the title (`Greenspace · Community`); Grafana finds a board by uid.
 */
export const DASHBOARDS = {
  cityOverview: { uid: 'gs-city-overview', slug: 'greenspace-city-overview' },
  community: { uid: 'gs-community', slug: 'greenspace-community' },
  facilityHealth: { uid: 'gs-facility-health', slug: 'greenspace-facility-health' },
  deviceFleet: { uid: 'gs-device-fleet', slug: 'greenspace-device-fleet' },
  operations: { uid: 'gs-operations', slug: 'greenspace-operations' },
  ingest: { uid: 'gs-ingest', slug: 'greenspace-ingest' },
} as const;
export type DashboardName = keyof typeof DASHBOARDS;

/**
 * A link to a dashboard on the Grafana at `base` (GS_GRAFANA_URL) with its place variables
 * filled (`var-zone=…`); undefined when no Grafana is configured, so a page shows no link.
 */
export function dashboardLink(base: string | undefined, name: DashboardName, vars: Record<string, string | undefined>): string | undefined {
  if (!base) return undefined;
  const { uid, slug } = DASHBOARDS[name];
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(vars)) if (v !== undefined && v !== '') q.append(`var-${k}`, v);
  const query = q.toString();
  return `${base.replace(/\/+$/, '')}/d/${uid}/${slug}${query ? `?${query}` : ''}`;
}
