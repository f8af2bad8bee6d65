import type { Identity } from '../contracts/identity.ts';

/** Identities on the broker: devices and admins (contracts/identity.ts) and confined network servers. */
export type BrokerIdentity =
  | Identity
  | { role: 'service'; name: string; kind: 'chirpstack' | 'tts'; applications: readonly string[] };
