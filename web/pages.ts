import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../registry/db.ts';
import type { AlertService } from '../alerts/alert-service.ts';
import type { WorkOrderService } from '../alerts/work-orders/service.ts';
import type { WorkOrder } from '../alerts/work-orders/store.ts';
import type { Principal } from '../contracts/access.ts';
import { canAccessDistrict } from '../api/scope.ts';
import { CSS, JS } from './assets.ts';
import { esc, page, PAGE_PREFIX, time, type Frame } from './html.ts';
import { langOf, MESSAGES } from './messages.ts';
import { registerPublicPages } from './public-pages.ts';
import { registerDeskPages } from './desk-pages.ts';
import { registerScorecardPage } from './scorecard-page.ts';
import { registerAccountPage } from './account-page.ts';

export interface PageDeps {
  db: Db; alerts: AlertService; workOrders: WorkOrderService;
  /** GS_GRAFANA_URL: the desk pages link to its dashboards; undefined: no links. */
  grafanaUrl?: string | undefined;
  /** Where people reach this server (GS_PUBLIC_URL, else the bound port): the QR poster prints it. */
  publicUrl?: () => string;
}

export { PAGE_PREFIX };
const OPEN_STATES = new Set(['open', 'assigned', 'accepted', 'resolved']);

/**
 * Server-rendered pages for people: a technician's phone (my work orders, one work order
 * with its actions), an operator's desk (the work-order board, the alert inbox), the
 * one-tap acknowledge page of a notification's signed link, and the login. Pages read
 * through the services the API serves (held to the caller's districts with the API's own
 * predicate) and change nothing themselves: their forms call the API (web/assets.ts).
 * Without a session a page redirects to the login.
 */
export function registerPages(app: FastifyInstance, deps: PageDeps): void {
  const kit = createPageKit(app, deps);
  const { place, frameOf, session, html, get } = kit;

  get('/', async (_request, reply) => reply.redirect(`${PAGE_PREFIX}/`));
  get(`${PAGE_PREFIX}/assets/app.css`, async (_r, reply) => reply.type('text/css; charset=utf-8').send(CSS));
  get(`${PAGE_PREFIX}/assets/app.js`, async (_r, reply) => reply.type('text/javascript; charset=utf-8').send(JS));

  get(`${PAGE_PREFIX}/login`, async (request, reply) => {
    const f = frameOf(request);
    const changed = (request.query as { changed?: string }).changed ? `<p class="ok" role="status">${esc(f.m.passwordChanged)}</p>` : '';
    return html(reply, page(f, f.m.login, `${changed}<form class="card narrow" data-api="POST /api/v1/session" data-then="next">
      <label for="name">${esc(f.m.name)}</label><input id="name" name="name" autocomplete="username" required autocapitalize="none">
      <label for="password">${esc(f.m.password)}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <p class="error" role="alert"></p><button class="act" type="submit">${esc(f.m.login)}</button></form>`));
  });

  get(`${PAGE_PREFIX}/`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    return reply.redirect(s.user.role === 'technician' ? `${PAGE_PREFIX}/my` : `${PAGE_PREFIX}/board`);
  });

  get(`${PAGE_PREFIX}/my`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    const mine = (await deps.workOrders.list({ assignee: s.user.name }, s.user.districts))
      .filter((wo) => wo.state === 'assigned' || wo.state === 'accepted')
      .sort((a, b) => a.dueAt - b.dueAt);
    const body = mine.length === 0 ? `<p class="card">${esc(m.noWork)}</p>` : mine.map((wo) => workOrderCard(s.frame, wo, place.of(wo))).join('');
    return html(reply, page(s.frame, m.myWork, body));
  });

  get(`${PAGE_PREFIX}/board`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    const state = (request.query as { state?: string }).state;
    const orders = (await deps.workOrders.list(state ? { state } as never : {}, s.user.districts)).filter((wo) => (state ? true : OPEN_STATES.has(wo.state)));
    const options = ['', 'open', 'assigned', 'accepted', 'resolved', 'closed'].map((st) => `<option value="${st}"${st === (state ?? '') ? ' selected' : ''}>${esc(st ? m.states[st] : m.all)}</option>`).join('');
    const rows = orders.map((wo) => `<tr><td><a href="${PAGE_PREFIX}/work-orders/${wo.id}">#${wo.id}</a></td><td>${esc(wo.title)}</td><td>${esc(place.of(wo).community)}</td>
      <td><span class="badge ${esc(wo.severity)}">${esc(m.severities[wo.severity])}</span></td><td>${esc(m.states[wo.state] ?? wo.state)}</td><td>${esc(wo.assignee ?? '')}</td>
      <td class="${wo.overdue ? 'overdue' : ''}">${esc(time(wo.dueAt))}</td></tr>`).join('');
    return html(reply, page(s.frame, m.board, `<form class="filters" method="get"><select name="state" aria-label="${esc(m.state)}">${options}</select><button class="act secondary" type="submit">${esc(m.filter)}</button></form>
      <table><thead><tr><th>#</th><th>${esc(m.alert)}</th><th>${esc(m.community)}</th><th>${esc(m.severity)}</th><th>${esc(m.state)}</th><th>${esc(m.assignee)}</th><th>${esc(m.due)}</th></tr></thead><tbody>${rows}</tbody></table>`));
  });

  get(`${PAGE_PREFIX}/alerts`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    const q = request.query as { state?: string; kind?: string; community?: string };
    const list = await deps.alerts.list({ ...(q.state ? { state: q.state } : { active: true }), ...(q.kind ? { kind: q.kind } : {}), ...(q.community ? { community: q.community } : {}) } as never, s.user.districts);
    const canAct = s.user.role !== 'viewer';
    const items = list.map((a) => `<div class="card"><span class="badge ${esc(a.severity)}">${esc(m.severities[a.severity])}</span> <strong>#${a.id}</strong> ${esc(a.message)}
      <div class="meta">${esc(a.kind)} · ${esc(a.communityId ?? '')} · ${esc(m.states[a.state] ?? a.state)} · ${esc(time(a.firstFiredAt))}</div>
      ${canAct && a.state === 'firing' ? `<form data-api="POST /api/v1/alerts/${a.id}/ack"><p class="error"></p><button class="act" type="submit">${esc(m.acknowledge)}</button></form>` : ''}
      ${['admin', 'operator'].includes(s.user.role) && a.state !== 'resolved' ? `<form data-api="POST /api/v1/alerts/${a.id}/resolve"><input name="note" placeholder="${esc(m.note)}" aria-label="${esc(m.note)}"><p class="error"></p><button class="act secondary" type="submit">${esc(m.resolveAlert)}</button></form>` : ''}
      </div>`).join('');
    const filters = `<form class="filters" method="get"><select name="state" aria-label="${esc(m.state)}"><option value="">${esc(m.all)}</option>${['firing', 'acknowledged', 'resolved'].map((st) => `<option value="${st}"${q.state === st ? ' selected' : ''}>${esc(m.states[st])}</option>`).join('')}</select>
      <input name="kind" placeholder="${esc(m.kind)}" value="${esc(q.kind ?? '')}"><input name="community" placeholder="${esc(m.community)}" value="${esc(q.community ?? '')}"><button class="act secondary" type="submit">${esc(m.filter)}</button></form>`;
    return html(reply, page(s.frame, m.alerts, `${canAct ? '' : `<p class="meta">${esc(m.readOnly)}</p>`}${filters}${items || `<p class="card">${esc(m.noWork)}</p>`}`));
  });

  get(`${PAGE_PREFIX}/work-orders/:id`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    const wo = await deps.workOrders.get(Number((request.params as { id: string }).id));
    if (!wo || !canAccessDistrict(s.user, wo.districtId)) return reply.code(404).type('text/html; charset=utf-8').send(page(s.frame, m.workOrder, `<p class="card">404</p>`));
    const alert = await deps.alerts.get(wo.alertId);
    const where = place.of(wo);
    const role = s.user.role;
    const field = ['admin', 'operator', 'technician'].includes(role);
    const ops = role === 'admin' || role === 'operator';
    const api = `/api/v1/work-orders/${wo.id}`;
    const actions: string[] = [];
    if (field && wo.state === 'assigned') actions.push(`<form data-api="POST ${api}/accept"><p class="error"></p><button class="act" type="submit">${esc(m.accept)}</button></form>`);
    if (field && wo.state === 'accepted') {
      actions.push(`<form class="card" data-api="POST ${api}/resolve" data-upload="${api}/photos"><label for="note">${esc(m.note)}</label><textarea id="note" name="note" required rows="3"></textarea>
        <label for="photo">${esc(m.photo)}</label><input id="photo" name="photo-file" type="file" accept="image/jpeg,image/png,image/webp" capture="environment">
        <p class="error"></p><button class="act" type="submit">${esc(m.resolve)}</button></form>`);
    }
    if (ops && (wo.state === 'open' || wo.state === 'assigned')) actions.push(`<form class="card" data-api="POST ${api}/assign"><label for="assignee">${esc(m.assignee)}</label><input id="assignee" name="assignee" required value="${esc(wo.assignee ?? '')}"><p class="error"></p><button class="act" type="submit">${esc(m.assign)}</button></form>`);
    if (ops && wo.state === 'resolved') {
      actions.push(`<form class="card" data-api="POST ${api}/verify"><label for="vnote">${esc(m.note)}</label><input id="vnote" name="note"><p class="meta">${esc(m.separation)}</p><p class="error"></p><button class="act" type="submit">${esc(m.verify)}</button></form>`);
      actions.push(`<form class="card" data-api="POST ${api}/reject"><label for="rnote">${esc(m.note)}</label><input id="rnote" name="note" required><p class="error"></p><button class="act secondary" type="submit">${esc(m.reject)}</button></form>`);
    }
    if (field) actions.push(`<form data-api="POST /api/v1/alerts/${wo.alertId}/comments"><label for="text">${esc(m.comment)}</label><input id="text" name="text" required><p class="error"></p><button class="act secondary" type="submit">${esc(m.send)}</button></form>`);
    const history = (await deps.workOrders.history(wo.id)).map((e) => `<li>${esc(time(e.at))} · <strong>${esc(e.action)}</strong> · ${esc(e.by ?? '')}${e.note ? ` — ${esc(e.note)}` : ''}</li>`).join('');
    const comments = (await deps.alerts.comments(wo.alertId)).map((c) => `<li>${esc(time(c.at))} · ${esc(c.by)} — ${esc(c.text)}</li>`).join('');
    const map = where.lat !== null && where.lon !== null ? ` · <a href="geo:${where.lat},${where.lon}?q=${where.lat},${where.lon}">${esc(m.map)}</a>` : '';
    const body = `<div class="card"><span class="badge ${esc(wo.severity)}">${esc(m.severities[wo.severity])}</span> <span class="badge">${esc(m.states[wo.state] ?? wo.state)}</span>
      <p><strong>${esc(m.alert)} #${wo.alertId}</strong> ${esc(alert?.message ?? wo.title)}</p>
      <p class="meta">${esc(m.place)}: ${esc(where.community)} / ${where.page ? `<a href="${esc(where.page)}">${esc(where.subject)}</a>` : esc(where.subject)}${map}</p>
      <p class="meta">${esc(m.assignee)}: ${esc(wo.assignee ?? '—')} · ${esc(m.due)}: <span class="${wo.overdue ? 'overdue' : ''}">${esc(time(wo.dueAt))}</span></p>
      ${wo.resolution ? `<p>${esc(m.resolve)}: ${esc(wo.resolution)}</p>` : ''}${wo.photoUrl ? `<img class="photo" alt="${esc(m.photo)}" src="${esc(new URL(wo.photoUrl, 'http://x').pathname)}">` : ''}</div>
      ${role === 'viewer' ? `<p class="meta">${esc(m.readOnly)}</p>` : actions.join('')}
      <h2>${esc(m.history)}</h2><ol class="history">${history}${comments}</ol>`;
    return html(reply, page(s.frame, `${m.workOrder} #${wo.id}`, body));
  });

  registerPublicPages(kit);
  registerDeskPages(kit);
  registerScorecardPage(kit);
  registerAccountPage(kit);
}

/** What every page route shares: the frame, the session check, the HTML answer, place names. */
export type PageKit = ReturnType<typeof createPageKit>;
function createPageKit(app: FastifyInstance, { db, grafanaUrl, publicUrl }: PageDeps) {
  const config = { scope: { global: 'pages check each object against the caller with canAccessDistrict' } };
  const schema = { hide: true };
  const frameOf = (request: FastifyRequest, user?: Principal, csrf?: string): Frame => {
    const lang = langOf(request.query, request.headers['accept-language']);
    return { lang, m: MESSAGES[lang], user, csrf, path: request.url.replace(/[?&]lang=\w+/, '') };
  };
  return {
    app,
    db,
    grafanaUrl,
    /** The public base URL, or the address this request came to when none is configured. */
    publicUrl: (request: FastifyRequest): string => (publicUrl?.() ?? `${request.protocol}://${request.host}`).replace(/\/+$/, ''),
    place: createPlaces(db),
    frameOf,
    /** The session's user, or a redirect to the login that comes back here. */
    session(request: FastifyRequest, reply: FastifyReply) {
      const auth = app.gsAccess.authenticate(undefined, request.ip, request.headers.cookie);
      if (!auth.ok) {
        void reply.redirect(`${PAGE_PREFIX}/login?next=${encodeURIComponent(request.url)}`);
        return undefined;
      }
      return { user: auth.principal, frame: frameOf(request, auth.principal, auth.csrf) };
    },
    /**
     * A GET of the API made as the page's caller (their session cookie): the API's own guard
     * and district scope decide, so a page shows exactly what its caller may read.
     */
    async read<T>(request: FastifyRequest, url: string): Promise<{ status: number; body: T | undefined }> {
      // A dot segment would be resolved to another route than the one the page names: a bug
      // in the page (ids are validated and encoded before they are put in a path).
      if (/(^|\/)\.{1,2}(\/|\?|$)/.test(url)) throw new Error(`page read of a path with a dot segment: ${url}`);
      const res = await app.inject({ url, headers: { cookie: request.headers.cookie ?? '', 'accept-language': 'en' } });
      return { status: res.statusCode, body: res.statusCode === 200 ? (res.json() as T) : undefined };
    },
    /**
     * The page for an API read that did not answer 200: 404 (missing, or outside the caller's
     * districts: the same answer), 403, or — when the API failed (a database down) — a 500 that
     * says so, not a "not found" that would tell the operator the thing does not exist.
     */
    refused(reply: FastifyReply, f: Frame, status: number) {
      const code = status >= 500 ? 500 : status === 403 ? 403 : 404;
      const title = code === 500 ? f.m.unavailable : code === 403 ? f.m.noAccess : f.m.notFound;
      return reply.code(code).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(page(f, title, `<p class="card">${code}</p>`));
    },
    html: (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(body),
    get: (path: string, handler: (request: FastifyRequest, reply: FastifyReply) => unknown) => app.get(path, { config, schema }, handler as never),
  };
}

/** Names and coordinates of a work order's place, for the page (ids where names are unknown). */
function createPlaces(db: Db) {
  const community = db.prepare('SELECT name FROM communities WHERE id = ?');
  const facility = db.prepare('SELECT name, lat, lon FROM facilities WHERE id = ?');
  const zone = db.prepare('SELECT name FROM zones WHERE id = ?');
  const communityById = db.prepare('SELECT id, name FROM communities WHERE id = ?');
  const districtById = db.prepare('SELECT id, name FROM districts WHERE id = ?');
  const places = db.prepare('SELECT id, name FROM facilities WHERE community_id = @c UNION ALL SELECT id, name FROM zones WHERE community_id = @c ORDER BY name');
  return {
    community: (id: string) => communityById.get(id) as { id: string; name: string } | undefined,
    district: (id: string) => districtById.get(id) as { id: string; name: string } | undefined,
    placesOf: (id: string) => places.all({ c: id }) as Array<{ id: string; name: string }>,
    of(wo: WorkOrder): { community: string; subject: string; lat: number | null; lon: number | null; page?: string } {
      const c = wo.communityId ? (community.get(wo.communityId) as { name: string } | undefined) : undefined;
      const f = facility.get(wo.subject) as { name: string; lat: number | null; lon: number | null } | undefined;
      const z = f ? undefined : (zone.get(wo.subject) as { name: string } | undefined);
      const page = f ? `${PAGE_PREFIX}/facilities/${encodeURIComponent(wo.subject)}` : z ? `${PAGE_PREFIX}/zones/${encodeURIComponent(wo.subject)}` : undefined;
      return { community: c?.name ?? wo.communityId ?? '', subject: f?.name ?? z?.name ?? wo.subject, lat: f?.lat ?? null, lon: f?.lon ?? null, ...(page ? { page } : {}) };
    },
  };
}

function workOrderCard(f: Frame, wo: WorkOrder, where: { community: string; subject: string }): string {
  return `<div class="card"><a class="title" href="${PAGE_PREFIX}/work-orders/${wo.id}">#${wo.id} ${esc(wo.title)}</a>
    <div class="meta"><span class="badge ${esc(wo.severity)}">${esc(f.m.severities[wo.severity])}</span> ${esc(f.m.states[wo.state] ?? wo.state)} · ${esc(where.community)} / ${esc(where.subject)}</div>
    <div class="meta ${wo.overdue ? 'overdue' : ''}">${esc(f.m.due)}: ${esc(time(wo.dueAt))}${wo.overdue ? ` · ${esc(f.m.overdue)}` : ''}</div></div>`;
}
