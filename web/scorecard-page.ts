import { z } from 'zod';
import { dashboardLink } from '../contracts/dashboards.ts';
import { Month } from '../contracts/month.ts';
import type { Messages } from './messages.ts';
import { esc, page, PAGE_PREFIX } from './html.ts';
import type { PageKit } from './pages.ts';

interface Row {
  communityId: string; districtId: string | null; rank: number; score: number | null; uptime: number | null; inBand: number | null;
  slaCompliance: number | null; mttaMs: number | null; mttrMs: number | null; alerts: number; devices: number;
}
interface DistrictRow { districtId: string; communities: number; scored: number; meanScore: number | null; rank: number }

/** The page's query: an optional month (this month when absent); a malformed one is a 400, not another month. */
const Query = z.object({ month: Month.optional() });
const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)} %`);
const minutes = (ms: number | null): string => (ms === null ? '—' : (ms / 60_000).toFixed(0));
/** This month in the deployment's local time (UTC+8), as the scorecard's months are. */
const thisMonth = (now: number): string => new Date(now + 8 * 3_600_000).toISOString().slice(0, 7);

/**
 * The month's scorecard and ranking (assessment/ computes them; the API serves them): the
 * communities ranked, the districts ranked by their communities' mean score, and the two
 * exports — CSV and Excel — which are the API's own routes, so they hold to the caller's
 * districts exactly as the table does. Admins, operators and viewers (the authority); the API
 * refuses a technician, and so does the page.
 */
export function registerScorecardPage(kit: PageKit): void {
  const { get, session, html, read, refused, place, grafanaUrl } = kit;
  get(`${PAGE_PREFIX}/scorecard`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    const query = Query.safeParse(request.query);
    if (!query.success) return html(reply.code(400), page(s.frame, m.scorecard, `<p class="card error">${esc(m.monthFormat)}</p>${monthForm(m, thisMonth(Date.now()))}`));
    const month = query.data.month ?? thisMonth(Date.now());
    const card = await read<{ month: string; rows: Row[]; districts: DistrictRow[] }>(request, `/api/v1/scorecard?month=${month}`);
    if (!card.body) return refused(reply, s.frame, card.status);
    const rows = card.body.rows;
    // Names first (the authority reads 洮北区, not taobei), the id beside a name for whoever matches the exports.
    const named = (id: string, found: string | undefined) => `${esc(found ?? id)}${found && found !== id ? ` <span class="meta">${esc(id)}</span>` : ''}`;
    const link = (r: Row) => dashboardLink(grafanaUrl, 'community', { district: r.districtId ?? undefined, community: r.communityId });
    const communityRows = rows.map((r) => `<tr><td>${r.rank}</td><td>${named(r.communityId, place.community(r.communityId)?.name)}${link(r) ? ` <a href="${esc(link(r))}" target="_blank" rel="noopener" title="Grafana">↗</a>` : ''}</td>
      <td>${r.districtId ? named(r.districtId, place.district(r.districtId)?.name) : ''}</td><td><strong>${r.score ?? '—'}</strong></td><td>${pct(r.uptime)}</td><td>${pct(r.inBand)}</td><td>${pct(r.slaCompliance)}</td><td>${minutes(r.mttaMs)}</td><td>${minutes(r.mttrMs)}</td><td>${r.alerts}</td></tr>`).join('');
    const districtRows = card.body.districts.map((d) => `<tr><td>${d.rank}</td><td>${named(d.districtId, place.district(d.districtId)?.name)}</td><td>${d.communities}</td><td><strong>${d.meanScore ?? '—'}</strong></td></tr>`).join('');
    const overview = dashboardLink(grafanaUrl, 'cityOverview', {});
    const body = `${monthForm(m, month, `<a class="act-link" href="/api/v1/scorecard.csv?month=${month}" download data-export="csv">${esc(m.downloadCsv)}</a><a class="act-link" href="/api/v1/scorecard.xlsx?month=${month}" download data-export="xlsx">${esc(m.downloadXlsx)}</a>`)}
      ${overview ? `<p><a class="grafana" href="${esc(overview)}" target="_blank" rel="noopener">${esc(m.grafana)} ↗</a></p>` : ''}
      <h2>${esc(m.communityRanking)}</h2><div class="scroll"><table data-communities><thead><tr><th>${esc(m.rank)}</th><th>${esc(m.community)}</th><th>${esc(m.district)}</th><th>${esc(m.score)}</th><th>${esc(m.uptime)}</th><th>${esc(m.inBand)}</th><th>${esc(m.sla)}</th><th>${esc(m.mtta)} (${esc(m.minutes)})</th><th>${esc(m.mttr)} (${esc(m.minutes)})</th><th>${esc(m.alertCount)}</th></tr></thead><tbody>${communityRows}</tbody></table></div>
      <h2>${esc(m.districtRanking)}</h2><div class="scroll"><table data-districts><thead><tr><th>${esc(m.rank)}</th><th>${esc(m.district)}</th><th>${esc(m.communities)}</th><th>${esc(m.meanScore)}</th></tr></thead><tbody>${districtRows}</tbody></table></div>`;
    return html(reply, page(s.frame, `${m.scorecard} · ${month}`, body));
  });
}

function monthForm(m: Messages, month: string, exports = ''): string {
  return `<form class="filters" method="get"><label for="month" class="inline">${esc(m.month)}</label><input id="month" name="month" type="month" value="${esc(month)}" pattern="\\d{4}-\\d{2}"><button class="act secondary" type="submit">${esc(m.show)}</button>
      ${exports}</form>`;
}
