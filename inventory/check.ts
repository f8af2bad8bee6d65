import { CronExpressionParser } from 'cron-parser';
import type { Inventory, InventoryDevice } from '../contracts/inventory.ts';
import { formatPath, type Path } from './problems.ts';

export interface CrossRefProblem { path: Path; message: string }

/** Where each device sits in the file, for the checks that follow references. */
interface Placed { device: InventoryDevice; communityId: string; path: Path }

/**
 * What a schema cannot see: ids unique across the file, references that resolve, and the
 * pairing of zones with valves and devices with places. Pure: data in, problems out.
 */
export function checkReferences(inv: Inventory): CrossRefProblem[] {
  const problems: CrossRefProblem[] = [];
  const seen = new Map<string, Path>();
  const unique = (kind: string, id: string, path: Path): void => {
    const key = `${kind}\u0000${id}`;
    const first = seen.get(key);
    if (first) problems.push({ path: [...path, 'id'], message: `duplicate ${kind} id "${id}" (first used at ${formatPath(first)})` });
    else seen.set(key, path);
  };

  const communities = new Set<string>();
  const zonesByCommunity = new Map<string, Map<string, { valve?: string; mode: string; path: Path }>>();
  const facilitiesByCommunity = new Map<string, Set<string>>();
  const devices = new Map<string, Placed>();
  const euis = new Map<string, Path>();

  inv.districts.forEach((d, di) => {
    const dp: Path = ['districts', di];
    unique('district', d.id, dp);
    d.subDistricts.forEach((s, si) => {
      const sp: Path = [...dp, 'subDistricts', si];
      unique('sub-district', s.id, sp);
      s.communities.forEach((c, ci) => {
        const cp: Path = [...sp, 'communities', ci];
        unique('community', c.id, cp);
        communities.add(c.id);
        const zones = new Map<string, { valve?: string; mode: string; path: Path }>();
        zonesByCommunity.set(c.id, zones);
        c.zones.forEach((z, zi) => {
          const zp: Path = [...cp, 'zones', zi];
          unique('zone', z.id, zp);
          zones.set(z.id, { valve: z.valve, mode: z.mode, path: zp });
          z.windows?.forEach((w, wi) => {
            try {
              CronExpressionParser.parse(w);
            } catch (error) {
              problems.push({ path: [...zp, 'windows', wi], message: `not a cron expression: ${(error as Error).message}` });
            }
          });
        });
        const facilities = new Set<string>();
        facilitiesByCommunity.set(c.id, facilities);
        c.facilities.forEach((f, fi) => {
          unique('facility', f.id, [...cp, 'facilities', fi]);
          facilities.add(f.id);
        });
        c.devices.forEach((device, xi) => {
          const xp: Path = [...cp, 'devices', xi];
          unique('device', device.id, xp);
          if (!devices.has(device.id)) devices.set(device.id, { device, communityId: c.id, path: xp });
          if (device.devEui) {
            const eui = device.devEui.toLowerCase();
            const first = euis.get(eui);
            if (first) problems.push({ path: [...xp, 'devEui'], message: `dev EUI ${eui} is already used at ${formatPath(first)}` });
            else euis.set(eui, [...xp, 'devEui']);
          }
        });
      });
    });
  });

  for (const { device, communityId, path } of devices.values()) {
    if (device.zone && !zonesByCommunity.get(communityId)?.has(device.zone)) {
      problems.push({ path: [...path, 'zone'], message: `no zone "${device.zone}" in community "${communityId}"` });
    }
    if (device.facility && !facilitiesByCommunity.get(communityId)?.has(device.facility)) {
      problems.push({ path: [...path, 'facility'], message: `no facility "${device.facility}" in community "${communityId}"` });
    }
    problems.push(...checkPlacement(device, path));
    if (device.gateway) {
      const gateway = devices.get(device.gateway);
      if (!gateway) problems.push({ path: [...path, 'gateway'], message: `no device "${device.gateway}" in the inventory` });
      else if (gateway.device.kind !== 'gateway') problems.push({ path: [...path, 'gateway'], message: `"${device.gateway}" is a ${gateway.device.kind} device, not a gateway` });
    }
  }

  for (const [communityId, zones] of zonesByCommunity) {
    for (const [zoneId, zone] of zones) {
      if (zone.mode === 'automatic' && !zone.valve) {
        problems.push({ path: [...zone.path, 'valve'], message: 'an automatic zone needs its valve controller (or set mode: manual)' });
      }
      if (zone.mode === 'manual' && zone.valve) {
        problems.push({ path: [...zone.path, 'valve'], message: 'a manual zone is watered by hand: remove the valve or set mode: automatic' });
      }
      if (!zone.valve) continue;
      const valve = devices.get(zone.valve);
      if (!valve) problems.push({ path: [...zone.path, 'valve'], message: `no device "${zone.valve}" in the inventory` });
      else if (valve.device.kind !== 'valve') problems.push({ path: [...zone.path, 'valve'], message: `"${zone.valve}" is a ${valve.device.kind} device, not a valve` });
      else if (valve.communityId !== communityId || valve.device.zone !== zoneId) {
        problems.push({ path: [...zone.path, 'valve'], message: `valve "${zone.valve}" is not installed in zone "${zoneId}" (its zone is ${valve.device.zone ? `"${valve.device.zone}"` : 'unset'})` });
      }
    }
  }

  inv.teams.forEach((team, ti) => {
    const tp: Path = ['teams', ti];
    unique('team', team.id, tp);
    team.communities.forEach((c, ci) => {
      if (!communities.has(c)) problems.push({ path: [...tp, 'communities', ci], message: `no community "${c}" in the inventory` });
    });
    team.technicians.forEach((t, i) => unique('technician', t.id, [...tp, 'technicians', i]));
  });
  return problems;
}

/** Soil sensors and valves live in a zone, tilt sensors on a facility, gateways on neither. */
function checkPlacement(device: InventoryDevice, path: Path): CrossRefProblem[] {
  const needs = { soil: 'zone', valve: 'zone', tilt: 'facility', rain: undefined, gateway: undefined } as const;
  const need = needs[device.kind];
  if (need && !device[need]) return [{ path: [...path, need], message: `a ${device.kind} device needs its ${need}` }];
  if (device.kind !== 'tilt' && device.facility) return [{ path: [...path, 'facility'], message: `a ${device.kind} device is not installed on a facility` }];
  if (device.kind === 'tilt' && device.zone) return [{ path: [...path, 'zone'], message: 'a tilt device is installed on a facility, not in a zone' }];
  if (device.kind === 'gateway' && (device.zone || device.gateway)) {
    return [{ path: [...path, device.zone ? 'zone' : 'gateway'], message: 'a gateway belongs to its community only' }];
  }
  return [];
}
