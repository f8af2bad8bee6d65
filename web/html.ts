import type { Lang, Messages } from './messages.ts';

/** Every page path: none is in the OpenAPI document (they are HTML over the API, not API). */
export const PAGE_PREFIX = '/app';

/** Escape text for HTML content and attribute values. */
export const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Local time of the deployment (UTC+8), as the notifications show it. */
export const time = (ms: number | null | undefined): string =>
  ms ? new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ') : '';

export interface Frame { lang: Lang; m: Messages; user?: { name: string; role: string } | undefined; csrf?: string | undefined; path: string }

/** The page around a body: no CDN, one stylesheet and one small script from this server. */
export function page(f: Frame, title: string, body: string): string {
  const other = f.lang === 'zh' ? 'en' : 'zh';
  const nav = f.user
    ? `<nav><a href="/app/my">${esc(f.m.myWork)}</a>${f.user.role === 'technician' ? '' : `<a href="/app/board">${esc(f.m.board)}</a>`}<a href="/app/alerts">${esc(f.m.alerts)}</a><a href="/app/places">${esc(f.m.places)}</a>${f.user.role === 'technician' ? '' : `<a href="/app/scorecard">${esc(f.m.scorecard)}</a>`}
       <a class="who" href="/app/password" title="${esc(f.m.changePassword)}">${esc(f.user.name)} · ${esc(f.m.roles[f.user.role] ?? f.user.role)}</a>
       <button type="button" data-logout>${esc(f.m.logout)}</button></nav>`
    : '';
  return `<!doctype html><html lang="${f.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${f.csrf ? `<meta name="csrf" content="${esc(f.csrf)}">` : ''}
<title>${esc(title)} · ${esc(f.m.appName)}</title><link rel="stylesheet" href="/app/assets/app.css"></head>
<body><header><strong>${esc(f.m.appName)}</strong>${nav}<a class="lang" href="${esc(f.path)}${f.path.includes('?') ? '&' : '?'}lang=${other}">${esc(f.m.language)}</a></header>
<main><h1>${esc(title)}</h1>${body}</main><script src="/app/assets/app.js" defer></script></body></html>`;
}
