import type { Db } from './db.ts';
import type { DeviceRegistry } from './devices.ts';
import { CodedError } from '../lib/errors.ts';
import { BINDING_NEEDS_EUI, type DeviceInfo } from '../contracts/device.ts';
import { DeviceBinding, DeviceMove } from '../contracts/device-lifecycle.ts';
import { generateSecret, type CredentialHasher } from './secrets.ts';

export interface LifecycleDeps {
  devices: Pick<DeviceRegistry, 'get' | 'refresh'>;
  /** Drop the device's live MQTT connection: its credentials or standing just changed. */
  disconnect: (deviceId: string) => void;
  /** The data directory's credential hasher: a rotated secret is stored keyed, like every generated one. */
  hasher: CredentialHasher;
}

export type DeviceLifecycle = ReturnType<typeof createDeviceLifecycle>;

/**
 * Changes to a registered device after installation. Each writes SQLite, then refreshes
 * the registry's in-memory entry (which the broker's credential cache and the ingest
 * read), then acts on the live connection, in that order: a reconnect racing the change
 * already sees the new state.
 */
export function createDeviceLifecycle(db: Db, deps: LifecycleDeps) {
  const existing = (id: string): DeviceInfo => {
    const device = deps.devices.get(id);
    if (!device) throw new CodedError('not_found', `no device ${id}`);
    return device;
  };
  const refreshed = (id: string): DeviceInfo => deps.devices.refresh(id) ?? existing(id);

  return {
    /** A new secret, returned once; the old one stops working at once, live connection included. */
    async rotateSecret(id: string): Promise<{ device: DeviceInfo; secret: string }> {
      existing(id);
      const secret = generateSecret();
      const hash = deps.hasher.hash(secret);
      db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(hash, id);
      const device = refreshed(id);
      deps.disconnect(id);
      return { device, secret };
    },

    /** Disabled: the connection is dropped, reconnects are refused and its readings are not ingested. */
    setDisabled(id: string, disabled: boolean): DeviceInfo {
      existing(id);
      db.prepare('UPDATE devices SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id);
      const device = refreshed(id);
      if (disabled) deps.disconnect(id);
      return device;
    },

    /** Readings after the move carry the new place's tags; earlier points keep theirs. */
    move(id: string, input: DeviceMove): DeviceInfo {
      const { kind } = existing(id);
      const target = DeviceMove.parse(input);
      // The measurement a reading lands in is tagged by zone (soil, valve) or facility (tilt): a mismatch would lose its place.
      if ('zone' in target && kind === 'tilt') throw new CodedError('bad_request', 'a tilt sensor belongs to a facility, not a zone');
      if ('facility' in target && (kind === 'soil' || kind === 'valve')) throw new CodedError('bad_request', `a ${kind} device belongs to a zone, not a facility`);
      let community: string;
      let zone: string | null = null;
      let facility: string | null = null;
      if ('zone' in target) {
        community = placeCommunity('zones', target.zone, 'zone');
        zone = target.zone;
      } else if ('facility' in target) {
        community = placeCommunity('facilities', target.facility, 'facility');
        facility = target.facility;
      } else {
        if (!db.prepare('SELECT 1 FROM communities WHERE id = ?').get(target.community)) throw new CodedError('not_found', `no community ${target.community}`);
        community = target.community;
      }
      db.prepare('UPDATE devices SET zone_id = ?, facility_id = ?, community_id = ? WHERE id = ?').run(zone, facility, community, id);
      return refreshed(id);
    },

    /**
     * Bind the device to the network-server application whose uplinks alone may speak for
     * it, or unbind it (null). The registry's entry is replaced, so the ingest judges the
     * next uplink by the new binding; the live connections stay (a binding is about which
     * service account's topics are believed, not about the device's own credentials).
     * The inventory file stays the record: its next import sets the column again.
     */
    bindApplication(id: string, input: DeviceBinding): DeviceInfo {
      const device = existing(id);
      const { lorawanApplication } = DeviceBinding.parse(input);
      if (lorawanApplication !== null && !device.devEui) {
        throw new CodedError('bad_request', `device ${id} has no devEui: ${BINDING_NEEDS_EUI}`, { issues: [{ path: 'lorawanApplication', message: BINDING_NEEDS_EUI }] });
      }
      db.prepare('UPDATE devices SET lorawan_application = ? WHERE id = ?').run(lorawanApplication, id);
      return refreshed(id);
    },

    /** The district a place belongs to, for callers confined to districts. */
    districtOf(target: DeviceMove): string | undefined {
      const sql = 'zone' in target
        ? 'SELECT c.district_id AS d FROM zones z JOIN communities c ON c.id = z.community_id WHERE z.id = ?'
        : 'facility' in target
          ? 'SELECT c.district_id AS d FROM facilities f JOIN communities c ON c.id = f.community_id WHERE f.id = ?'
          : 'SELECT district_id AS d FROM communities WHERE id = ?';
      const key = 'zone' in target ? target.zone : 'facility' in target ? target.facility : target.community;
      return (db.prepare(sql).get(key) as { d: string } | undefined)?.d;
    },
  };

  function placeCommunity(table: 'zones' | 'facilities', placeId: string, what: string): string {
    const row = db.prepare(`SELECT community_id FROM ${table} WHERE id = ?`).get(placeId) as { community_id: string } | undefined;
    if (!row) throw new CodedError('not_found', `no ${what} ${placeId}`);
    return row.community_id;
  }
}
