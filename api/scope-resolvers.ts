import type { DeviceRegistry } from '../registry/devices.ts';
import type { DeviceLifecycle } from '../registry/device-lifecycle.ts';
import type { Health } from '../health/start.ts';
import type { Outbox } from '../notify/outbox.ts';
import type { SilenceStore } from '../notify/silences.ts';
import type { ScopeResolvers } from './scope.ts';

interface Deps {
  devices: DeviceRegistry;
  lifecycle: DeviceLifecycle;
  health?: Health;
  notifications?: { outbox: Outbox; silences: SilenceStore };
}

/**
 * Where each kind of thing lies, from the services the API already has: a device its
 * placement, a zone or facility its community's district, an alert and its work order the
 * district they were raised in, a notification its alerts' (one district, or none when they
 * span several), a silence its community's.
 */
export function createScopeResolvers(deps: Deps): ScopeResolvers {
  const deviceDistrict = (id: string | null | undefined): string | null | undefined => {
    if (!id) return null;
    const device = deps.devices.get(id);
    return device && (device.districtId ?? null);
  };
  const communityDistrict = (community: string | null | undefined): string | null => (community ? deps.lifecycle.districtOf({ community }) ?? null : null);
  const alertDistrict = async (id: number): Promise<string | null> => (await deps.health?.alerts.get(id))?.districtId ?? null;
  /** The one district all of a notification's alerts lie in; null when none or several. */
  const alertsDistrict = async (alertIds: readonly number[]): Promise<string | null> => {
    const districts = new Set(await Promise.all(alertIds.map(alertDistrict)));
    const [only] = districts;
    return districts.size === 1 && only !== undefined ? only : null;
  };
  const numeric = (id: string): number | undefined => (/^\d{1,15}$/.test(id) ? Number(id) : undefined);
  const ofNumbered = async <T>(id: string, get: (n: number) => T | undefined | Promise<T | undefined>, districtOf: (t: T) => string | null | Promise<string | null>): Promise<string | null | undefined> => {
    const n = numeric(id);
    const found = n === undefined ? undefined : await get(n);
    return found === undefined ? undefined : districtOf(found);
  };

  return {
    object: {
      device: (id) => deviceDistrict(id),
      zone: (id) => deps.lifecycle.districtOf({ zone: id }),
      facility: (id) => deps.lifecycle.districtOf({ facility: id }),
      alert: (id) => ofNumbered(id, (n) => deps.health?.alerts.get(n), (a) => a.districtId),
      'work-order': (id) => ofNumbered(id, (n) => deps.health?.workOrders.get(n), (w) => w.districtId),
      notification: (id) => ofNumbered(id, (n) => deps.notifications?.outbox.alertIdsOf(n), alertsDistrict),
      silence: (id) => ofNumbered(id, (n) => deps.notifications?.silences.communityOf(n), (s) => communityDistrict(s.communityId)),
    },
    item: {
      device: (d: { district?: string }) => d.district,
      alert: (a: { districtId: string | null }) => a.districtId,
      'work-order': (w: { districtId: string | null }) => w.districtId,
      notification: (n: { alertIds: number[] }) => alertsDistrict(n.alertIds),
      silence: (s: { communityId: string | null }) => communityDistrict(s.communityId),
      'dead-letter': (l: { device: string | null }) => deviceDistrict(l.device),
      'scorecard-row': (r: { districtId: string | null }) => r.districtId,
    },
    into: {
      device: (body: { place?: { district?: string } }) => body.place?.district,
      silence: (body: { communityId?: string }) => communityDistrict(body.communityId),
    },
  };
}
