import type { DeviceInfo } from '../contracts/device.ts';
import type { ServiceAccount } from '../registry/service-accounts.ts';
import type { CredentialCache } from './credential-cache.ts';
import type { BrokerIdentity } from './identity.ts';

// MQTT 3.1.1 CONNACK return codes
export const IDENTIFIER_REJECTED = 2;
export const SERVER_UNAVAILABLE = 3;
export const BAD_USERNAME_OR_PASSWORD = 4;

export type RefusalReason = 'no_credentials' | 'client_id_mismatch' | 'bad_credentials' | 'device_disabled' | 'service_disabled' | 'busy';
export type AuthOutcome =
  | { ok: true; identity: BrokerIdentity }
  | { ok: false; reason: RefusalReason; returnCode: number };

export interface AuthenticatorDeps {
  devices: { get(id: string): DeviceInfo | undefined; authenticate(id: string, secret: string): Promise<DeviceInfo | undefined> };
  services: { get(id: string): ServiceAccount | undefined; authenticate(id: string, secret: string): Promise<ServiceAccount | undefined> };
  cache: CredentialCache;
  /** A full-cost check against a dummy hash: unknown and disabled users take as long as a wrong secret. */
  dummyVerify: (secret: string) => Promise<unknown>;
  countCheck: (via: 'cache' | 'scrypt') => void;
  /**
   * scrypt runs on libuv's thread pool (4 threads by default), which the durable log's
   * writes and fdatasync share: a flood of wrong credentials would hold every QoS 1 PUBACK
   * behind it (400 queued checks held an append 17 s here). At most `concurrency` run at
   * once, `queue` more wait; past that a CONNECT is refused as server unavailable and the
   * client retries. GS_MQTT_AUTH_CONCURRENCY / GS_MQTT_AUTH_QUEUE; the pool is sized to
   * keep threads beside them (config/threadpool-size.cjs).
   */
  slowChecks?: { concurrency: number; queue: number };
  /** Told each time the checks running or waiting change: the gauges that size a reconnect storm. */
  observeSlowChecks?: (running: number, waiting: number) => void;
}

const BUSY = Symbol('busy');

function createGate(options: { concurrency: number; queue: number }, observe: (running: number, waiting: number) => void = () => undefined) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(check: () => Promise<T>): Promise<T | typeof BUSY> => {
    if (active < options.concurrency) active += 1;
    else if (waiting.length >= options.queue) return BUSY;
    else {
      const turn = new Promise<void>((resolve) => waiting.push(resolve));
      observe(active, waiting.length);
      await turn;
    }
    observe(active, waiting.length);
    try {
      return await check();
    } finally {
      const next = waiting.shift(); // hand the slot over, or give it back
      if (next) next();
      else active -= 1;
      observe(active, waiting.length);
    }
  };
}

const refuse = (reason: RefusalReason, returnCode = BAD_USERNAME_OR_PASSWORD): AuthOutcome => ({ ok: false, reason, returnCode });

/**
 * Who is connecting. Devices: client id = user name = device id. Service accounts: client
 * id = the account id, or `{id}/...` so one network server may hold several connections
 * (a '/' never occurs in a device id, so such a client id cannot take over a device's session).
 */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const slow = createGate(deps.slowChecks ?? { concurrency: 2, queue: 256 }, deps.observeSlowChecks);
  async function authenticate(clientId: string, username: string | undefined, password: string | undefined, attempt = 0): Promise<AuthOutcome> {
    if (!username || password === undefined || password === '') return refuse('no_credentials');
    const device = deps.devices.get(username);
    const service = device ? undefined : deps.services.get(username);
    // Judged only after the credentials: refused earlier, return code 2 vs 4 would tell a
    // stranger which names are service accounts.
    const clientIdOk = service ? clientId === username || clientId.startsWith(`${username}/`) : clientId === username;

    const account = device ?? service;
    if (!account || account.disabled) {
      if ((await slow(() => deps.dummyVerify(password))) === BUSY) return refuse('busy', SERVER_UNAVAILABLE);
      deps.countCheck('scrypt');
      return refuse(!account ? 'bad_credentials' : device ? 'device_disabled' : 'service_disabled');
    }
    if (deps.cache.check(username, account, password)) {
      deps.countCheck('cache');
      if (!clientIdOk) return refuse('client_id_mismatch', IDENTIFIER_REJECTED);
      return { ok: true, identity: identityOf(account, device !== undefined) };
    }
    const verified = await slow<DeviceInfo | ServiceAccount | undefined>(() => (device ? deps.devices.authenticate(username, password) : deps.services.authenticate(username, password)));
    if (verified === BUSY) return refuse('busy', SERVER_UNAVAILABLE);
    deps.countCheck('scrypt');
    if (!verified) return refuse('bad_credentials');
    // Rotated, disabled or removed while scrypt ran: decide again on the current state.
    const current = device ? deps.devices.get(username) : deps.services.get(username);
    if (current !== verified) return attempt < 2 ? authenticate(clientId, username, password, attempt + 1) : refuse('bad_credentials');
    deps.cache.remember(username, verified, password);
    if (!clientIdOk) return refuse('client_id_mismatch', IDENTIFIER_REJECTED);
    return { ok: true, identity: identityOf(verified, device !== undefined) };
  }
  return authenticate;
}

function identityOf(account: DeviceInfo | ServiceAccount, isDevice: boolean): BrokerIdentity {
  if (isDevice) return { role: 'device', deviceId: account.id };
  const service = account as ServiceAccount;
  if (service.kind === 'admin') return { role: 'admin', name: service.id };
  return { role: 'service', name: service.id, kind: service.kind, applications: service.applications };
}
