import { esc, page, PAGE_PREFIX } from './html.ts';
import type { PageKit } from './pages.ts';

/**
 * A person changes their own password: the current one and the new one twice. The form calls
 * the API (`POST /api/v1/users/{name}/password`, CSRF, scrypt), which checks the current
 * password against the failure budget and ends every session of the user, so the page sends
 * them to the login to come back with the new one.
 */
export function registerAccountPage(kit: PageKit): void {
  const { get, session, html } = kit;
  get(`${PAGE_PREFIX}/password`, async (request, reply) => {
    const s = session(request, reply);
    if (!s) return reply;
    const { m } = s.frame;
    return html(reply, page(s.frame, m.changePassword, `<form class="card narrow" data-api="POST /api/v1/users/${encodeURIComponent(s.user.name)}/password" data-then="${PAGE_PREFIX}/login?changed=1">
      <label for="current">${esc(m.currentPassword)}</label><input id="current" name="currentPassword" type="password" autocomplete="current-password" required>
      <label for="new">${esc(m.newPassword)}</label><input id="new" name="newPassword" type="password" autocomplete="new-password" minlength="8" maxlength="200" required>
      <label for="repeat">${esc(m.repeatPassword)}</label><input id="repeat" type="password" autocomplete="new-password" required data-repeat="newPassword" data-mismatch="${esc(m.passwordsDiffer)}">
      <p class="error" role="alert"></p><button class="act" type="submit">${esc(m.changePassword)}</button></form>`));
  });
}
