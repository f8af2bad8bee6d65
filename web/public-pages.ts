import QRCode from 'qrcode';
import type { FastifyReply } from 'fastify';
import { esc, page, PAGE_PREFIX, time, type Frame } from './html.ts';
import type { PageKit } from './pages.ts';
import { ReportReference } from '../contracts/report.ts';

/**
 * The pages anyone may open without a login: a community's report page (the QR code on its
 * notice board points here) and a report's state by its reference, and the one-tap page of
 * a notification's signed acknowledge link. They read and write only through the API's
 * public routes, which check the rate limit, the reference and the signature.
 */
export function registerPublicPages(kit: PageKit): void {
  const { app, place, frameOf, html, get, publicUrl } = kit;
  // One answer for a reference that is malformed and one that is unknown: the page's not-found.
  const referenceUnknown = (f: Frame, reply: FastifyReply, typed: string) =>
    html(reply.code(404), page(f, f.m.lookupTitle, `<p class="card error">${esc(f.m.referenceUnknown)}</p>${lookupForm(f, typed)}`));
  // A community's public report page (the QR code on its notice board points here): no login.
  get(`${PAGE_PREFIX}/report/:community`, async (request, reply) => {
    const f = frameOf(request);
    const id = (request.params as { community: string }).community;
    const c = place.community(id);
    if (!c) return html(reply.code(404), page(f, f.m.report, '<p class="card">404</p>'));
    const places = place.placesOf(id).map((p) => `<option value="${esc(p.id)}">${esc(p.name)}</option>`).join('');
    const categories = Object.entries(f.m.categories).map(([k, v]) => `<option value="${k}">${esc(v)}</option>`).join('');
    return html(reply, page(f, `${f.m.report} · ${c.name}`, `<p>${esc(f.m.reportIntro)}</p>
      <form class="card" data-api="POST /api/v1/communities/${esc(id)}/reports" data-report>
        <label for="category">${esc(f.m.category)}</label><select id="category" name="category">${categories}</select>
        <label for="place">${esc(f.m.where)}</label><select id="place" name="place"><option value=""></option>${places}</select>
        <label for="text">${esc(f.m.whatHappened)}</label><textarea id="text" name="text" required maxlength="1000" rows="4"></textarea>
        <label for="photo">${esc(f.m.photo)}</label><input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" capture="environment">
        <p class="error"></p><button class="act" type="submit">${esc(f.m.submitReport)}</button></form>
      <p class="ok" data-thanks hidden>${esc(f.m.reportThanks)} <strong data-reference></strong> · <a data-state-link href="#">${esc(f.m.checkState)}</a></p>
      <p class="meta"><a href="${PAGE_PREFIX}/report-state">${esc(f.m.lookupTitle)}</a> · <a href="${PAGE_PREFIX}/report/${encodeURIComponent(id)}/qr">${esc(f.m.printQr)}</a></p>`));
  });

  // The notice-board poster: this community's report page as a QR code of its public URL
  // (GS_PUBLIC_URL), drawn as SVG on the server (qrcode), so printing needs nothing from the internet.
  get(`${PAGE_PREFIX}/report/:community/qr`, async (request, reply) => {
    const f = frameOf(request);
    const id = (request.params as { community: string }).community;
    const c = place.community(id);
    if (!c) return html(reply.code(404), page(f, f.m.report, '<p class="card">404</p>'));
    const url = `${publicUrl(request)}${PAGE_PREFIX}/report/${encodeURIComponent(id)}`;
    const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#1b2b1e', light: '#ffffff' } });
    return html(reply, page(f, `${f.m.qrTitle} · ${c.name}`, `<div class="card poster"><p class="big"><strong>${esc(c.name)}</strong></p><figure data-qr>${svg}</figure>
      <p>${esc(f.m.reportIntro)}</p><p class="url" data-url>${esc(url)}</p></div>
      <p class="meta no-print">${esc(f.m.qrHint)}</p><button class="act no-print" type="button" data-print>${esc(f.m.printQr)}</button>`));
  });

  // A reference typed by hand: the lookup form sends it here, and it goes to its state page.
  get(`${PAGE_PREFIX}/report-state`, async (request, reply) => {
    const f = frameOf(request);
    const typed = String((request.query as { reference?: string }).reference ?? '').trim().slice(0, 100);
    if (typed && !ReportReference.safeParse(typed).success) return referenceUnknown(f, reply, typed);
    if (typed) return reply.redirect(`${PAGE_PREFIX}/report-state/${encodeURIComponent(typed)}${f.lang === 'en' ? '?lang=en' : ''}`);
    return html(reply, page(f, f.m.lookupTitle, lookupForm(f)));
  });

  get(`${PAGE_PREFIX}/report-state/:reference`, async (request, reply) => {
    const f = frameOf(request);
    const reference = (request.params as { reference: string }).reference;
    // The API's own schema first: no path is built from a reference of the wrong shape.
    if (!ReportReference.safeParse(reference).success) return referenceUnknown(f, reply, reference);
    const res = await app.inject({ url: `/api/v1/reports/${encodeURIComponent(reference)}` });
    if (res.statusCode !== 200) return referenceUnknown(f, reply, reference);
    const r = res.json() as { state: string; receivedAt: number; category: string };
    return html(reply, page(f, `${f.m.report} ${reference}`, `<div class="card"><p><strong>${esc(f.m.reportStates[r.state] ?? r.state)}</strong></p><p class="meta">${esc(f.m.categories[r.category] ?? r.category)} · ${esc(time(r.receivedAt))}</p></div>`));
  });

  // The one-tap page of a notification's link: no login; the API checks the signature.
  get(`${PAGE_PREFIX}/ack/:id`, async (request, reply) => {
    const f = frameOf(request);
    const id = Number((request.params as { id: string }).id);
    const q = request.query as Record<string, string>;
    const proof = new URLSearchParams({ r: q.r ?? '', x: q.x ?? '', s: q.s ?? '' });
    const res = await app.inject({ url: `/api/v1/alerts/${id}/link?${proof}` });
    if (res.statusCode !== 200) return html(reply.code(res.statusCode), page(f, f.m.acknowledge, `<p class="card error">${esc(f.m.linkInvalid)}</p>`));
    const a = res.json() as { id: number; severity: string; state: string; message: string; kind: string; subject: string; communityId: string | null; firstFiredAt: number; acknowledgedBy: string | null };
    const hidden = ['r', 'x', 's'].map((k) => `<input type="hidden" name="${k}" value="${esc(q[k])}">`).join('');
    const form = a.state === 'firing'
      ? `<form data-api="POST /api/v1/alerts/${a.id}/link-ack" data-done="${esc(f.m.ackDone)}">${hidden}<label for="note">${esc(f.m.optionalNote)}</label><input id="note" name="note"><p class="error"></p><button class="act" type="submit">${esc(f.m.acknowledge)}</button></form>`
      : `<p class="ok">${esc(f.m.states[a.state] ?? a.state)}${a.acknowledgedBy ? ` · ${esc(f.m.ackBy)}: ${esc(a.acknowledgedBy)}` : ''}</p>`;
    return html(reply, page(f, `${f.m.alert} #${a.id}`, `<div class="card"><span class="badge ${esc(a.severity)}">${esc(f.m.severities[a.severity] ?? a.severity)}</span>
      <p><strong>${esc(a.message)}</strong></p><p class="meta">${esc(a.kind)} · ${esc(a.communityId ?? '')} / ${esc(a.subject)} · ${esc(time(a.firstFiredAt))}</p>${form}</div>`));
  });
}

function lookupForm(f: Frame, typed = ''): string {
  return `<form class="card narrow" method="get" action="${PAGE_PREFIX}/report-state"><label for="reference">${esc(f.m.referenceLabel)}</label>
    <input id="reference" name="reference" required maxlength="100" autocapitalize="characters" autocomplete="off" value="${esc(typed)}"><button class="act" type="submit">${esc(f.m.lookup)}</button></form>`;
}
