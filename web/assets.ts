/** The pages' one stylesheet: phone first (one column, thumb-sized buttons), wider screens get a table. */
export const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif;color:#1b2b1e;background:#f4f7f2}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#2f6b3a;color:#fff}
header a,header button{color:#fff}nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}.who{opacity:.85;font-size:.9em}
header button{background:none;border:1px solid #fff8;border-radius:6px;padding:.2rem .6rem;font:inherit;cursor:pointer}.lang{margin-left:auto}
main{max-width:960px;margin:0 auto;padding:1rem}h1{font-size:1.35rem;margin:.2rem 0 1rem}
.card{background:#fff;border-radius:10px;padding:.9rem 1rem;margin:0 0 .8rem;box-shadow:0 1px 3px #0002}
.card a.title{font-weight:600;font-size:1.05rem;text-decoration:none;color:#1d4f28}
.meta{color:#53645a;font-size:.9rem}.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;background:#e3ece4}
.critical{background:#fbe0de;color:#9b1c14}.warning{background:#fff1cc;color:#7a5300}.overdue{color:#9b1c14;font-weight:600}
form{margin:.6rem 0}label{display:block;margin:.5rem 0 .2rem;font-weight:600}
input,textarea,select{width:100%;font:inherit;padding:.55rem;border:1px solid #b8c6bb;border-radius:8px;background:#fff}
button.act{display:block;width:100%;margin:.6rem 0;padding:.8rem;font:inherit;font-weight:600;border:0;border-radius:10px;background:#2f6b3a;color:#fff;cursor:pointer}
button.act.secondary{background:#e3ece4;color:#1d4f28}button.act:disabled{opacity:.6}
.error{color:#9b1c14;font-weight:600;min-height:1.2em}.ok{color:#1d6b2a;font-weight:600}
ol.history{padding-left:1.2rem}ol.history li{margin:.3rem 0}img.photo{max-width:100%;border-radius:8px}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.45rem;border-bottom:1px solid #e0e7e1;font-size:.92rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}.filters button.act,.filters a.act-link{margin:0}.filters select,.filters input{width:auto}
h2{font-size:1.1rem;margin:1.2rem 0 .5rem}.big{font-size:1.25rem;margin:.3rem 0}.ok{color:#1d6b2a}.badge.ok{background:#dcefdc}.info{color:#1d4f7a}
.scroll{overflow-x:auto;margin-bottom:.8rem}.scroll table{min-width:520px}table.kv th{width:40%;font-weight:600}
ul.plain,ul.places{list-style:none;padding:0;margin:0}ul.plain li,ul.places li{padding:.35rem 0;border-bottom:1px solid #e0e7e1}
.cols{display:grid;gap:.8rem}.cols>.card,.cols>form{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;align-items:flex-end}.actions form{margin:0;flex:1 1 12rem}.actions .error{min-height:0;margin:.2rem 0}.actions button.act{margin:.4rem 0}
a.act-link{display:inline-block;padding:.55rem .9rem;border-radius:10px;background:#e3ece4;color:#1d4f28;font-weight:600;text-decoration:none}
a.grafana{font-weight:600;color:#1d4f7a}label.inline{display:inline;margin:0}.narrow{max-width:28rem}
.poster{text-align:center}.poster figure{margin:.5rem auto}.poster svg{display:block;margin:0 auto;width:min(100%,22rem);height:auto}.poster .url{font-size:.9rem;word-break:break-all}
@media (min-width:720px){button.act{display:inline-block;width:auto;padding:.6rem 1.2rem}.cols{grid-template-columns:repeat(auto-fit,minmax(15rem,1fr))}}
@media print{header,.no-print{display:none}body{background:#fff}.card{box-shadow:none}.poster svg{width:14cm}main{max-width:none}}
`;

/**
 * Progressive enhancement: a form with `data-api="METHOD /api/…"` is sent to the API as JSON
 * with the session's CSRF token (from <meta name="csrf">); a file field is uploaded first
 * (multipart, `data-upload`) and its URL sent as `photoUrl`. On success the page reloads or
 * goes to `data-then`; an error shows in the form's .error element. The API is the one way
 * state changes: pages never write.
 */
export const JS = `
const csrf = document.querySelector('meta[name=csrf]')?.content;
const headers = (json) => Object.assign(json ? { 'content-type': 'application/json' } : {}, csrf ? { 'x-csrf-token': csrf } : {});
async function send(method, url, body) {
  const res = await fetch(url, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || res.status);
  return data;
}
document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!form.dataset.api) return;
  event.preventDefault();
  const [method, url] = form.dataset.api.split(' ');
  if (form.dataset.report !== undefined) return sendReport(form, url);
  const error = form.querySelector('.error');
  const button = form.querySelector('button[type=submit]');
  if (button) button.disabled = true;
  try {
    const repeat = form.querySelector('[data-repeat]');
    if (repeat && repeat.value !== form.elements[repeat.dataset.repeat].value) throw new Error(repeat.dataset.mismatch);
    const body = {};
    for (const [key, value] of new FormData(form)) {
      if (typeof value !== 'string' || value === '') continue;
      const input = form.elements[key];
      // A number field is sent as a number, in the API's unit (data-scale: minutes → seconds).
      body[key] = input?.type === 'number' ? Number(value) * Number(input.dataset.scale || 1) : value;
    }
    const file = form.querySelector('input[type=file]')?.files?.[0];
    if (file && form.dataset.upload) {
      const data = new FormData();
      data.append('photo', file);
      const res = await fetch(form.dataset.upload, { method: 'POST', body: data, headers: headers(false), credentials: 'same-origin' });
      const up = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(up.message || res.status);
      body.photoUrl = new URL(up.url, location.origin).href;
    }
    const result = await send(method, url, body);
    const then = form.dataset.then;
    if (then === 'next') location.href = new URLSearchParams(location.search).get('next')?.startsWith('/app/') ? new URLSearchParams(location.search).get('next') : '/app/';
    else if (then) location.href = then;
    else if (form.dataset.done) { form.innerHTML = '<p class="ok">' + form.dataset.done + '</p>'; }
    else location.reload();
    return result;
  } catch (e) {
    if (error) error.textContent = e.message;
    if (button) button.disabled = false;
  }
});
async function sendReport(form, url) {
  const error = form.querySelector('.error');
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  const data = new FormData(form);
  for (const [key, value] of [...data]) if (value === '' || (typeof value !== 'string' && value.size === 0)) data.delete(key);
  const res = await fetch(url, { method: 'POST', body: data });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { error.textContent = body.message || res.status; button.disabled = false; return; }
  form.hidden = true;
  const thanks = document.querySelector('[data-thanks]');
  thanks.querySelector('[data-reference]').textContent = body.reference;
  thanks.querySelector('[data-state-link]').href = '/app/report-state/' + encodeURIComponent(body.reference);
  thanks.hidden = false;
}
document.addEventListener('input', (event) => {
  const error = event.target.form?.querySelector('.error');
  if (error) error.textContent = '';
});
document.querySelector('[data-print]')?.addEventListener('click', () => window.print());
document.querySelector('[data-logout]')?.addEventListener('click', async () => {
  await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' });
  location.href = '/app/login';
});
`;
