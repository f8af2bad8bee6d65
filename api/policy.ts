import type { Role } from '../contracts/access.ts';

/**
 * Who may do what through the API: the intended policy, one row per action, written down
 * apart from the routes. Routes carry their own guards (api/auth.ts `allow.*`, named by the
 * roles they let through); test/integration/api/policy.test.ts calls every route of every
 * action as every role against a running app and fails where the two disagree, and fails
 * on any served route that no action here names.
 *
 * Roles (contracts/access.ts): admin — everything; operator — runs the system and
 * dispatches and verifies field work; technician — field work on devices, facilities and
 * faults; viewer — reads (the city authority checking the ledger and the scorecard);
 * service — machine clients that provision devices.
 *
 * The ledger rule 整改销号: the one who fixed is not the one who signs it off. A work
 * order is verified and closed (销号) by an operator or admin other than the person who
 * resolved it; an admin may override the separation (`overrideSeparation: true`), and the
 * override is written into the work order's history. Technicians never verify.
 *
 * District scope (api/scope.ts) applies on top of roles: a token confined to districts
 * sees and changes only what lies in them.
 */
export interface PolicyRow {
  roles: readonly Role[];
  /** `METHOD /path` as the OpenAPI document names them. Empty: no route does this. */
  routes: readonly string[];
  why?: string;
}

const ALL: readonly Role[] = ['admin', 'operator', 'technician', 'viewer', 'service'];
const STAFF_READERS: readonly Role[] = ['admin', 'operator', 'technician', 'viewer'];
const FIELD: readonly Role[] = ['admin', 'operator', 'technician'];
const OPERATORS: readonly Role[] = ['admin', 'operator'];
const ADMINS: readonly Role[] = ['admin'];
const wo = (action: string) => `POST /api/v1/work-orders/{id}/${action}`;

export const POLICY = {
  // Work orders (the fault ledger).
  'work-order.create': { roles: [], routes: [], why: 'the alert service opens exactly one per fault alert; nobody creates one by hand' },
  'work-order.read': { roles: STAFF_READERS, routes: ['GET /api/v1/work-orders', 'GET /api/v1/work-orders.csv', 'GET /api/v1/work-orders/{id}'] },
  'work-order.assign': { roles: OPERATORS, routes: [wo('assign')], why: 'dispatch is the operators\' job' },
  'work-order.accept': { roles: FIELD, routes: [wo('accept')], why: 'the technician takes it; an operator may record it for them' },
  'work-order.resolve': { roles: FIELD, routes: [wo('resolve')], why: 'the technician records the fix; an operator may enter it for them' },
  'work-order.verify': { roles: OPERATORS, routes: [wo('verify')], why: '销号: someone other than the resolver signs it off (admin may override, recorded)' },
  'work-order.reject': { roles: OPERATORS, routes: [wo('reject')], why: 'the other outcome of verification' },
  'work-order.photo': { roles: FIELD, routes: ['POST /api/v1/work-orders/{id}/photos'], why: 'the technician photographs the fix from the phone' },
  'work-order.photo-read': { roles: STAFF_READERS, routes: ['GET /api/v1/work-orders/{id}/photos/{file}'], why: 'whoever may read the work order' },
  'work-order.comment': { roles: FIELD, routes: ['POST /api/v1/alerts/{id}/comments'], why: 'a work order\'s discussion is its alert\'s comments' },
  // Alerts.
  'alert.read': { roles: STAFF_READERS, routes: ['GET /api/v1/alerts', 'GET /api/v1/alerts/{id}'] },
  'alert.acknowledge': { roles: FIELD, routes: ['POST /api/v1/alerts/{id}/ack'] },
  'alert.acknowledge-by-link': { roles: [], routes: ['GET /api/v1/alerts/{id}/link', 'POST /api/v1/alerts/{id}/link-ack'], why: 'public: the notification\'s signed link (one alert, one recipient, an expiry) is the proof' },
  'alert.resolve': { roles: OPERATORS, routes: ['POST /api/v1/alerts/{id}/resolve'], why: 'a technician\'s fix goes through the work order, where it is verified' },
  'alert.silence': { roles: OPERATORS, routes: ['POST /api/v1/silences', 'DELETE /api/v1/silences/{id}'] },
  'silence.read': { roles: OPERATORS, routes: ['GET /api/v1/silences'] },
  'notification.read': { roles: OPERATORS, routes: ['GET /api/v1/notifications'] },
  'notification.retry': { roles: OPERATORS, routes: ['POST /api/v1/notifications/{id}/retry'] },
  // Irrigation.
  'zone.read': { roles: STAFF_READERS, routes: ['GET /api/v1/zones/{id}/irrigation', 'GET /api/v1/zones/{id}/decisions', 'GET /api/v1/zones/{id}/signals'], why: 'the zone page: a viewer checks the city\'s watering, a technician reads it at the valve; only operators act' },
  'zone.water-now': { roles: OPERATORS, routes: ['POST /api/v1/zones/{id}/water-now'] },
  'zone.skip': { roles: OPERATORS, routes: ['POST /api/v1/zones/{id}/skip-next'] },
  'zone.pause': { roles: OPERATORS, routes: ['POST /api/v1/zones/{id}/pause'] },
  'zone.forecast': { roles: OPERATORS, routes: ['POST /api/v1/zones/{id}/forecast'] },
  'zone.configure': { roles: OPERATORS, routes: ['PUT /api/v1/zones/{id}/irrigation'] },
  // Facilities.
  'facility.read': { roles: STAFF_READERS, routes: ['GET /api/v1/facilities/{id}', 'GET /api/v1/facilities/{id}/thresholds'] },
  'facility.calibrate': { roles: FIELD, routes: ['POST /api/v1/facilities/{id}/calibrate'], why: 'the installer sets the baseline on site' },
  // Devices.
  'device.read': { roles: ALL, routes: ['GET /api/v1/devices', 'GET /api/v1/devices/{id}'] },
  'device.register': { roles: ['admin', 'operator', 'service'], routes: ['POST /api/v1/devices'] },
  'device.rekey': { roles: FIELD, routes: ['POST /api/v1/devices/{id}/secret'], why: 'technicians replace devices in the field' },
  'device.manage': { roles: OPERATORS, routes: ['POST /api/v1/devices/{id}/disable', 'POST /api/v1/devices/{id}/enable', 'POST /api/v1/devices/{id}/move', 'PATCH /api/v1/devices/{id}'] },
  'dead-letter.read': { roles: OPERATORS, routes: ['GET /api/v1/dead-letters'] },
  'device-profile.read': { roles: ALL, routes: ['GET /api/v1/device-profiles', 'GET /api/v1/device-profiles/{id}'], why: 'sensor models, not places: the installer picks one in the field' },
  // The city as a whole.
  'inventory.import': { roles: ADMINS, routes: ['PUT /api/v1/inventory'] },
  'inventory.export': { roles: ADMINS, routes: ['GET /api/v1/inventory'] },
  'scorecard.read': { roles: ['admin', 'operator', 'viewer'], routes: ['GET /api/v1/scorecard', 'GET /api/v1/scorecard.csv', 'GET /api/v1/scorecard.xlsx'] },
  'token.manage': { roles: ADMINS, routes: ['POST /api/v1/tokens', 'GET /api/v1/tokens', 'DELETE /api/v1/tokens/{id}'] },
  'service-account.manage': {
    roles: ADMINS,
    routes: ['POST /api/v1/service-accounts', 'GET /api/v1/service-accounts', 'POST /api/v1/service-accounts/{id}/secret', 'POST /api/v1/service-accounts/{id}/disable', 'POST /api/v1/service-accounts/{id}/enable', 'DELETE /api/v1/service-accounts/{id}'],
  },
  // People (web pages): users log in with a password; machines keep tokens.
  'user.manage': { roles: ADMINS, routes: ['POST /api/v1/users', 'GET /api/v1/users'], why: 'the admin creates the people who log in' },
  'user.change-password': { roles: STAFF_READERS, routes: ['POST /api/v1/users/{name}/password'], why: 'each person their own with the current password, an admin too; an admin resets another user\'s without it' },
  'session.read': { roles: ALL, routes: ['GET /api/v1/session'], why: 'who am I' },
  'session.login': { roles: [], routes: ['POST /api/v1/session', 'DELETE /api/v1/session'], why: 'public: logging in and out needs no token; failed logins are rate-limited per address' },
  // Residents (the city's 居民监督渠道): no login, rate-limited per address.
  'report.create': { roles: [], routes: ['POST /api/v1/communities/{id}/reports'], why: 'public: a resident reports from the community\'s page; it lands in the team\'s ledger' },
  'report.read': { roles: [], routes: ['GET /api/v1/reports/{reference}'], why: 'public: the reference is the proof; only the state is shown' },
  // Probes and metrics: no token (scraped and probed from the private network).
  'probe.read': { roles: [], routes: ['GET /healthz', 'GET /readyz', 'GET /metrics'], why: 'public: no token needed' },
} as const satisfies Record<string, PolicyRow>;

export type PolicyAction = keyof typeof POLICY;

/** Routes anyone may call without a token or session. */
export const PUBLIC_ROUTES: readonly string[] = [...POLICY['probe.read'].routes, ...POLICY['session.login'].routes, ...POLICY['alert.acknowledge-by-link'].routes, ...POLICY['report.create'].routes, ...POLICY['report.read'].routes];
