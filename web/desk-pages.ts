import type { FastifyRequest } from 'fastify';
import { canAccessDistrict } from '../api/scope.ts';
import { EntityId } from '../contracts/device.ts';
import { dashboardLink } from '../contracts/dashboards.ts';
import type { WorkOrder } from '../alerts/work-orders/store.ts';
import type { AlertRecord } from '../alerts/alert-store.ts';
import { esc, page, PAGE_PREFIX, time, type Frame } from './html.ts';
import type { PageKit } from './pages.ts';

interface ZoneView {
  zone: { id: string; name: string; communityId: string; districtId: string; mode: string; valveId?: string };
  effective: Record<string, { value: unknown; source: string }>;
  state: { sensors?: Record<string, { deviceId: string; lastAt: number; moisture: number }>; run?: { startedAt: number; reason: string }; pausedUntil?: number; pausedBy?: string; skipNext?: { by: string } };
  inputs: { moisture?: number; counted?: string[]; excluded?: Array<{ deviceId: string; reason: string }>; pausedUntil?: number };
}
interface DecisionView { at: number; action: string; reason: string; actor?: string; runId?: string; durationS?: number; volumeL?: number; inputs: { moisture?: number } }
interface FacilityView {
  facilityId: string; name: string; type: string; communityId: string; districtId: string;
  current: { pitch: number; roll: number } | null; tiltDeg: number | null;
  thresholds: { warningDeg: number; criticalDeg: number; source: string; baseline: { pitch: number; roll: number } | null };
}

const OPERATORS = new Set(['admin', 'operator']);
const FIELD = new Set(['admin', 'operator', 'technician']);
const num = (n: number | null | undefined, digits = 1): string => (n === null || n === undefined ? '—' : n.toFixed(digits));
const grafana = (f: Frame, href: string | undefined): string => (href ? `<p><a class="grafana" href="${esc(href)}" target="_blank" rel="noopener">${esc(f.m.grafana)} ↗</a></p>` : '');
const form = (api: string, label: string, fields = '', secondary = false): string =>
  `<form data-api="${esc(api)}">${fields}<p class="error"></p><button class="act${secondary ? ' secondary' : ''}" type="submit">${esc(label)}</button></form>`;

/**
 * The place id of a page's path, encoded for the API path it is put into; undefined when it
 * is not an id at all. Checked before the API is asked: `..` would otherwise make the page's
 * own read (`/api/v1/zones/../irrigation`) land on another route than the one it means.
 * Not an id is answered as a missing place (404).
 */
const placeIdOf = (request: FastifyRequest): string | undefined => {
  const id = EntityId.safeParse((request.params as { id?: unknown }).id);
  return id.success ? encodeURIComponent(id.data) : undefined;
};

/**
 * An operator's desk beyond the ledger: the places in the caller's districts, a zone (its
 * moisture per sensor and the median the rules use, its band, the latest decisions in words,
 * its runs; water now, skip the next, pause) and a facility (tilt against its baseline, recent
 * alerts, open work orders; recalibrate). Each reads the API as its caller, so the API's roles
 * and district scope decide what shows (a zone elsewhere is a 404, as in the API); the buttons
 * show only for the roles the API lets act, and the API refuses the others anyway.
 */
export function registerDeskPages(kit: PageKit): void {
  const { get, session, html, read, refused, place, grafanaUrl, db } = kit;
  const zones = db.prepare('SELECT z.id, z.name, c.id AS communityId, c.name AS community, c.district_id AS districtId FROM zones z JOIN communities c ON c.id = z.community_id ORDER BY c.name, z.name');
  const facilities = db.prepare('SELECT f.id, f.name, f.type, c.id AS communityId, c.name AS community, c.district_id AS districtId FROM facilities f JOIN communities c ON c.id = f.community_id ORDER BY c.name, f.name');

  get(`${PAGE_PREFIX}/places`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    type Row = { id: string; name: string; community: string; districtId: string };
    const visible = (rows: unknown[]) => (rows as Row[]).filter((r) => canAccessDistrict(s.user, r.districtId));
    const list = (rows: Row[], kind: string) => rows.map((r) => `<li><a href="${PAGE_PREFIX}/${kind}/${encodeURIComponent(r.id)}">${esc(r.name)}</a> <span class="meta">${esc(r.community)} · ${esc(r.id)}</span></li>`).join('');
    return html(reply, page(s.frame, m.places, `<div class="cols"><section class="card"><h2>${esc(m.zone)}</h2><ul class="places">${list(visible(zones.all()), 'zones')}</ul></section>
      <section class="card"><h2>${esc(m.facility)}</h2><ul class="places">${list(visible(facilities.all()), 'facilities')}</ul></section></div>`));
  });

  get(`${PAGE_PREFIX}/zones/:id`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const id = placeIdOf(request);
    if (id === undefined) return refused(reply, s.frame, 404);
    const view = await read<ZoneView>(request, `/api/v1/zones/${id}/irrigation`);
    if (!view.body) return refused(reply, s.frame, view.status);
    const decisions = (await read<DecisionView[]>(request, `/api/v1/zones/${id}/decisions?limit=200`)).body ?? [];
    const community = place.community(view.body.zone.communityId)?.name ?? view.body.zone.communityId;
    return html(reply, page(s.frame, `${s.frame.m.zone} · ${view.body.zone.name}`, zoneBody(s.frame, s.user.role, view.body, decisions, community, grafanaUrl)));
  });

  get(`${PAGE_PREFIX}/facilities/:id`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const id = placeIdOf(request);
    if (id === undefined) return refused(reply, s.frame, 404);
    const view = await read<FacilityView>(request, `/api/v1/facilities/${id}`);
    if (!view.body) return refused(reply, s.frame, view.status);
    const f = view.body;
    const alerts = (await read<AlertRecord[]>(request, `/api/v1/alerts?subject=${id}&limit=10`)).body ?? [];
    // By subject, not the community's newest N: a busy community's older open order stays on its facility's page.
    const orders = ((await read<WorkOrder[]>(request, `/api/v1/work-orders?subject=${id}&limit=200`)).body ?? [])
      .filter((wo) => wo.state !== 'closed' && wo.state !== 'cancelled');
    const community = place.community(f.communityId)?.name ?? f.communityId;
    return html(reply, page(s.frame, `${s.frame.m.facility} · ${f.name}`, facilityBody(s.frame, s.user.role, f, alerts, orders, community, grafanaUrl)));
  });
}

function zoneBody(f: Frame, role: string, v: ZoneView, decisions: DecisionView[], community: string, grafanaUrl: string | undefined): string {
  const { m } = f;
  const band = v.effective.band as { value: { low: number; high: number }; source: string } | undefined;
  const excluded = new Map((v.inputs.excluded ?? []).map((e) => [e.deviceId, e.reason]));
  const sensors = Object.values(v.state.sensors ?? {}).map((t) => `<tr><td>${esc(t.deviceId)}</td><td>${num(t.moisture)} %</td><td>${esc(time(t.lastAt))}</td>
    <td>${excluded.has(t.deviceId) ? `<span class="badge warning">${esc(m.excludedAs)}: ${esc(m.exclusions[excluded.get(t.deviceId)!] ?? excluded.get(t.deviceId))}</span>` : esc(m.counted)}</td></tr>`).join('');
  const low = band ? band.value.low : undefined, high = band ? band.value.high : undefined;
  const median = v.inputs.moisture;
  const tone = median === undefined || low === undefined || high === undefined ? '' : median < low ? 'warning' : median > high ? 'info' : 'ok';
  const status = [v.state.run ? `<span class="badge ok">${esc(m.running)}</span>` : `<span class="badge">${esc(m.idle)}</span>`,
    v.inputs.pausedUntil ? `<span class="badge warning">${esc(m.pausedUntil)} ${esc(time(v.inputs.pausedUntil))}${v.state.pausedBy ? ` · ${esc(v.state.pausedBy)}` : ''}</span>` : '',
    v.state.skipNext ? `<span class="badge warning">${esc(m.skipPending)} · ${esc(v.state.skipNext.by)}</span>` : ''].join(' ');
  const head = `<div class="card"><p class="meta">${esc(community)} · ${esc(v.zone.id)} · ${esc(m.mode)}: ${esc(m.modes[v.zone.mode] ?? v.zone.mode)} · ${esc(m.valve)}: ${esc(v.zone.valveId ?? m.none)}</p>
    <p class="big"><span class="${tone}">${esc(m.median)}: <strong data-median>${num(median)} %</strong></span></p>
    <p>${esc(m.band)}: <strong data-band>${low ?? '—'}–${high ?? '—'} %</strong> <span class="meta">(${esc(m.source)}: ${esc(m.sources[band?.source ?? ''] ?? band?.source ?? '')})</span></p><p>${status}</p>
    ${grafana(f, dashboardLink(grafanaUrl, 'community', { district: v.zone.districtId, community: v.zone.communityId, zone: v.zone.id }))}</div>`;
  const api = `/api/v1/zones/${encodeURIComponent(v.zone.id)}`;
  const actions = OPERATORS.has(role)
    ? `<div class="card actions">${form(`POST ${api}/water-now`, m.waterNow, `<label for="minutes">${esc(m.durationMin)}</label><input id="minutes" name="durationS" type="number" min="1" max="360" data-scale="60">`)}
      ${form(`POST ${api}/skip-next`, m.skipNext, '', true)}
      ${form(`POST ${api}/pause`, m.pause, `<label for="days">${esc(m.pauseDays)}</label><input id="days" name="days" type="number" min="0" max="365" value="1" required>`, true)}</div>`
    : `<p class="meta">${esc(m.readOnly)}</p>`;
  const words = (d: DecisionView) => `${esc(m.actions[d.action] ?? d.action)} · ${esc(m.reasons[d.reason] ?? d.reason)}`;
  const recent = decisions.slice(0, 15).map((d) => `<tr><td>${esc(time(d.at))}</td><td>${words(d)}</td><td>${num(d.inputs.moisture)} %</td><td>${esc(d.actor ?? '')}</td></tr>`).join('');
  const stops = new Map(decisions.filter((d) => d.action === 'stop' && d.runId).map((d) => [d.runId, d]));
  const runs = decisions.filter((d) => d.action === 'start').slice(0, 10).map((d) => {
    const stop = d.runId ? stops.get(d.runId) : undefined;
    return `<tr data-run><td>${esc(time(d.at))}</td><td>${esc(m.reasons[d.reason] ?? d.reason)}</td><td>${esc(d.actor ?? '')}</td>
      <td>${stop?.durationS !== undefined ? `${num(stop.durationS / 60)} ${esc(m.minutes)}` : esc(m.running)}</td><td>${stop?.volumeL !== undefined ? `${num(stop.volumeL)} ${esc(m.litres)}` : ''}</td><td>${esc(stop ? m.reasons[stop.reason] ?? stop.reason : '')}</td></tr>`;
  }).join('');
  return `${head}${actions}
    <h2>${esc(m.moisture)}</h2><div class="scroll"><table><thead><tr><th>${esc(m.sensor)}</th><th>${esc(m.moisture)}</th><th>${esc(m.lastReading)}</th><th></th></tr></thead><tbody>${sensors}</tbody></table></div>
    <h2>${esc(m.decisions)}</h2><div class="scroll"><table><thead><tr><th>${esc(m.when)}</th><th>${esc(m.action)} · ${esc(m.reason)}</th><th>${esc(m.moisture)}</th><th>${esc(m.actor)}</th></tr></thead><tbody data-decisions>${recent}</tbody></table></div>
    <h2>${esc(m.runs)}</h2><div class="scroll"><table><thead><tr><th>${esc(m.started)}</th><th>${esc(m.reason)}</th><th>${esc(m.actor)}</th><th>${esc(m.duration)}</th><th>${esc(m.volume)}</th><th>${esc(m.stoppedBy)}</th></tr></thead><tbody>${runs}</tbody></table></div>`;
}

function facilityBody(f: Frame, role: string, v: FacilityView, alerts: AlertRecord[], orders: WorkOrder[], community: string, grafanaUrl: string | undefined): string {
  const { m } = f;
  const t = v.thresholds;
  const tone = v.tiltDeg === null ? '' : v.tiltDeg >= t.criticalDeg ? 'critical' : v.tiltDeg >= t.warningDeg ? 'warning' : 'ok';
  const angles = (a: { pitch: number; roll: number } | null, none: string) => (a ? `${esc(m.pitch)} ${num(a.pitch, 2)}° · ${esc(m.roll)} ${num(a.roll, 2)}°` : esc(none));
  const head = `<div class="card"><p class="meta">${esc(community)} · ${esc(v.facilityId)} · ${esc(m.facilityTypes[v.type] ?? v.type)}</p>
    <p class="big"><span class="${tone}">${esc(m.tiltFromBaseline)}: <strong data-tilt>${v.tiltDeg === null ? '—' : `${num(v.tiltDeg, 2)}°`}</strong></span></p>
    <table class="kv"><tbody><tr><th>${esc(m.current)}</th><td data-current>${angles(v.current, m.noReading)}</td></tr><tr><th>${esc(m.baseline)}</th><td data-baseline>${angles(t.baseline, m.noBaseline)}</td></tr>
    <tr><th>${esc(m.warningAt)} / ${esc(m.criticalAt)}</th><td>${num(t.warningDeg)}° / ${num(t.criticalDeg)}° <span class="meta">(${esc(m.thresholdSources[t.source] ?? t.source)})</span></td></tr></tbody></table>
    ${grafana(f, dashboardLink(grafanaUrl, 'facilityHealth', { district: v.districtId, community: v.communityId, facility: v.facilityId }))}</div>`;
  const actions = FIELD.has(role)
    ? `<div class="card actions">${form(`POST /api/v1/facilities/${encodeURIComponent(v.facilityId)}/calibrate`, m.recalibrate, `<p class="meta">${esc(m.recalibrateHint)}</p>`)}</div>`
    : `<p class="meta">${esc(m.readOnly)}</p>`;
  const alertRows = alerts.map((a) => `<li><span class="badge ${esc(a.severity)}">${esc(m.severities[a.severity] ?? a.severity)}</span> ${esc(time(a.firstFiredAt))} · ${esc(a.message)} · ${esc(m.states[a.state] ?? a.state)}</li>`).join('');
  const orderRows = orders.map((wo) => `<li><a href="${PAGE_PREFIX}/work-orders/${wo.id}">#${wo.id} ${esc(wo.title)}</a> · ${esc(m.states[wo.state] ?? wo.state)} · ${esc(m.due)} <span class="${wo.overdue ? 'overdue' : ''}">${esc(time(wo.dueAt))}</span></li>`).join('');
  return `${head}${actions}<h2>${esc(m.recentAlerts)}</h2><ul class="plain">${alertRows || `<li class="meta">${esc(m.none)}</li>`}</ul>
    <h2>${esc(m.openWorkOrders)}</h2><ul class="plain">${orderRows || `<li class="meta">${esc(m.none)}</li>`}</ul>`;
}

