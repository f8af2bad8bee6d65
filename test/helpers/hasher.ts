import { createCredentialHasher } from '../../registry/secrets.ts';

/** A credential hasher with a fixed key, for registries opened outside a data directory. */
export const testHasher = createCredentialHasher(Buffer.alloc(32, 7));
