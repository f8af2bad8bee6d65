import type { DeviceInfo } from '../contracts/device.ts';
import type { ServiceAccount } from '../registry/service-accounts.ts';
import type { CredentialCache } from './credential-cache.ts';
import type { BrokerIdentity } from './identity.ts';
import { createAuthQueue, DEFAULT_PER_ADDRESS, type AuthQueueOptions, type Lane, type Turn } from './auth-queue.ts';

// MQTT 3.1.1 CONNACK return codes
export const IDENTIFIER_REJECTED = 2;
export const SERVER_UNAVAILABLE = 3;
export const BAD_USERNAME_OR_PASSWORD = 4;

export type RefusalReason = 'no_credentials' | 'client_id_mismatch' | 'bad_credentials' | 'device_disabled' | 'service_disabled' | 'busy' | 'over_budget' | 'abandoned';
export type AuthOutcome =
  | { ok: true; identity: BrokerIdentity }
  | { ok: false; reason: RefusalReason; returnCode: number };

/**
 * An MQTT account store: `hasKeyedHash` says whether the account's secret is checked by the
 * keyed hash (microseconds, on the event loop) or is a legacy scrypt hash (the queue).
 */
export interface AccountStore<A> {
  get(id: string): A | undefined;
  hasKeyedHash(id: string): boolean;
  authenticate(id: string, secret: string): Promise<A | undefined>;
}

export interface AuthenticatorDeps {
  devices: AccountStore<DeviceInfo>;
  services: AccountStore<ServiceAccount>;
  /** Remembers successes of slow (scrypt) checks only: a keyed check costs what the cache's own HMAC does. */
  cache: CredentialCache;
  /**
   * The keyed check against a dummy hash: unknown and disabled users cost what a wrong secret
   * for a (keyed) account costs, on the same path, under the same budget.
   */
  dummyVerify: (secret: string) => unknown;
  countCheck: (via: 'cache' | 'scrypt' | 'keyed') => void;
  /**
   * Legacy scrypt hashes only (a keyed check needs no queue). scrypt runs on libuv's thread pool (4 threads by default), which the durable log's
   * writes and fdatasync share: a flood of wrong credentials would hold every QoS 1 PUBACK
   * behind it (400 queued checks held an append 17 s here). At most `concurrency` run at
   * once, `queue` more wait; past that a CONNECT is refused as server unavailable and the
   * client retries. GS_MQTT_AUTH_CONCURRENCY / GS_MQTT_AUTH_QUEUE; the pool is sized to
   * keep threads beside them (config/threadpool-size.cjs). Who waits how: auth-queue.ts
   * (known accounts first, abandoned attempts dropped, failures budgeted per address).
   */
  slowChecks?: { concurrency: number; queue: number; perAddress?: AuthQueueOptions['perAddress'] };
  /** Told each time the checks running or waiting change: the gauges that size a reconnect storm. */
  observeSlowChecks?: (running: number, waiting: number) => void;
  now?: () => number;
}

/** Where a CONNECT comes from, and whether its socket is still open. */
export interface AttemptContext { address: string; signal?: AbortSignal }

const refuse = (reason: RefusalReason, returnCode = BAD_USERNAME_OR_PASSWORD): AuthOutcome => ({ ok: false, reason, returnCode });

/**
 * Who is connecting. Devices: client id = user name = device id. Service accounts: client
 * id = the account id, or `{id}/...` so one network server may hold several connections
 * (a '/' never occurs in a device id, so such a client id cannot take over a device's session).
 */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const options = deps.slowChecks ?? { concurrency: 2, queue: 256 };
  const queue = createAuthQueue({ ...options, perAddress: options.perAddress ?? DEFAULT_PER_ADDRESS }, deps.now ?? Date.now, deps.observeSlowChecks);
  async function authenticate(clientId: string, username: string | undefined, password: string | undefined, context: AttemptContext = { address: 'unknown' }, attempt = 0): Promise<AuthOutcome> {
    if (!username || password === undefined || password === '') return refuse('no_credentials');
    const device = deps.devices.get(username);
    const service = device ? undefined : deps.services.get(username);
    // Judged only after the credentials: refused earlier, return code 2 vs 4 would tell a
    // stranger which names are service accounts.
    const clientIdOk = service ? clientId === username || clientId.startsWith(`${username}/`) : clientId === username;

    const account = device ?? service;
    const ticket = (lane: Lane) => ({ address: context.address, lane, signal: context.signal });
    if (!account || account.disabled) {
      const turn = await queue.charge(ticket('stranger'), () => deps.dummyVerify(password), () => true);
      if (!turn.checked) return refuse(turn.why, SERVER_UNAVAILABLE);
      deps.countCheck('keyed');
      return refuse(!account ? 'bad_credentials' : device ? 'device_disabled' : 'service_disabled');
    }
    const check = (): Promise<DeviceInfo | ServiceAccount | undefined> => (device ? deps.devices.authenticate(username, password) : deps.services.authenticate(username, password));
    const keyed = device ? deps.devices.hasKeyedHash(username) : deps.services.hasKeyedHash(username);
    let turn: Turn<DeviceInfo | ServiceAccount | undefined>;
    if (keyed) {
      turn = await queue.charge(ticket('known'), check, (verified) => verified === undefined);
      if (turn.checked) deps.countCheck('keyed');
    } else {
      if (deps.cache.check(username, account, password)) {
        deps.countCheck('cache');
        if (!clientIdOk) return refuse('client_id_mismatch', IDENTIFIER_REJECTED);
        return { ok: true, identity: identityOf(account, device !== undefined) };
      }
      turn = await queue.run(ticket('known'), check, (verified) => verified === undefined);
      if (turn.checked) deps.countCheck('scrypt');
    }
    if (!turn.checked) return refuse(turn.why, SERVER_UNAVAILABLE);
    const verified = turn.value;
    if (!verified) return refuse('bad_credentials');
    // Rotated, disabled or removed while the check ran: decide again on the current state.
    const current = device ? deps.devices.get(username) : deps.services.get(username);
    if (current !== verified) return attempt < 2 ? authenticate(clientId, username, password, context, attempt + 1) : refuse('bad_credentials');
    // A legacy hash that matched was upgraded to the keyed one (registry/secrets.ts): the next
    // login takes the keyed path, so only an account still on scrypt is worth remembering.
    if (!keyed && !(device ? deps.devices.hasKeyedHash(username) : deps.services.hasKeyedHash(username))) deps.cache.remember(username, verified, password);
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
