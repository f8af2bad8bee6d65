import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeviceProfile, type DeviceProfileView } from '../contracts/device-profile.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { DeviceKind } from '../contracts/reading.ts';
import { DEVICE_KINDS } from '../contracts/reading.ts';
import { parseBoundedYaml, type DocumentLimits } from '../lib/bounded-yaml.ts';
import { describeIssue, formatPath, lineAt } from '../lib/document-problems.ts';
import { GENERIC_LITHIUM_CURVE } from './battery.ts';
import { compileProfile, type CompiledProfile } from './profile-map.ts';

/** The profiles that ship with the system, one YAML file per model. */
export const SHIPPED_PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

/** A profile is a page of YAML; 64 KiB is ten times the longest shipped one. */
const PROFILE_LIMITS: DocumentLimits = { maxBytes: 64 * 1024, maxDepth: 16, maxAliases: 20 };
const MAX_PROFILES = 500;

/**
 * The generic names: what a device without a profile (or naming one not loaded) is read
 * with. Our own names first, then the vendor names the system understood before profiles
 * existed (Dragino LSE01, Milesight EM320-TILT), so those devices keep working unchanged.
 * Every LoRaWAN soil codec we know reports EC in µS/cm, and Milesight's key is spelt
 * `ec` like ours: the generic `ec` is read as µS/cm.
 */
const GENERIC_FIELDS: DeviceProfile['fields'] = {
  moisture: { from: ['moisture', 'water_SOIL'], unit: '%' },
  temperature: { from: ['temperature', 'temp_SOIL'], unit: '°C' },
  ec: { from: ['ec', 'conduct_SOIL'], unit: 'uS/cm' },
  battery: { from: ['battery'], unit: '%' },
  batteryV: { from: ['batteryV', 'BatV', 'Bat'], unit: 'V' },
  pitch: { from: ['pitch', 'angle_x'], unit: '°' },
  roll: { from: ['roll', 'angle_y'], unit: '°' },
  shock: { from: ['shock'], unit: 'g' },
  state: { from: ['state'], unit: 'state' },
  flow: { from: ['flow'], unit: 'L/min' },
  volume: { from: ['volume'], unit: 'L' },
  rainfall: { from: ['rainfall'], unit: 'mm' },
};

function genericProfile(kind: DeviceKind): CompiledProfile {
  return compileProfile({
    id: 'generic', vendor: 'any', model: 'generic field names', kind, decoders: [],
    fields: GENERIC_FIELDS,
    battery: { chemistry: 'Li-SOCl2 3.6 V (assumed)', curve: GENERIC_LITHIUM_CURVE.map(([v, p]) => [v, p] as [number, number]) },
  });
}

export interface LoadedProfile {
  profile: DeviceProfile;
  file: string;
  origin: 'shipped' | 'operator';
}

/** `file:line: path: message`, the way inventory problems read. */
export type ProfileProblem = string;

/** One profile file: bounded YAML, then the zod schema; problems name the file, line and path. */
export function parseProfileText(text: string, file: string): { ok: true; profile: DeviceProfile } | { ok: false; problems: ProfileProblem[] } {
  const bounded = parseBoundedYaml(text, PROFILE_LIMITS);
  if (!bounded.ok) return { ok: false, problems: [`${file}${bounded.problem.line ? `:${bounded.problem.line}` : ''}: (document): ${bounded.problem.message}`] };
  const { doc, lines } = bounded;
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.slice(0, 20).map((e) => `${file}:${lines.linePos(e.pos[0]).line}: (document): ${e.message.split('\n')[0] ?? e.code}`) };
  }
  const parsed = DeviceProfile.safeParse(doc.toJS({ maxAliasCount: PROFILE_LIMITS.maxAliases }), { reportInput: true });
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.flatMap(describeIssue).slice(0, 20).map((p) => {
        const line = lineAt(doc, lines, p.path);
        return `${file}${line === undefined ? '' : `:${line}`}: ${formatPath(p.path)}: ${p.message}`;
      }),
    };
  }
  return { ok: true, profile: parsed.data };
}

/**
 * Read every `*.yaml`/`*.yml` of the shipped directory, then of the operator's (which may
 * add models, not replace shipped ones: a replaced profile would change how stored series
 * read without a trace). All problems are collected: the caller refuses to boot with any.
 */
export function loadProfiles(operatorDir: string | undefined, shippedDir = SHIPPED_PROFILES_DIR): { profiles: LoadedProfile[]; problems: ProfileProblem[] } {
  const profiles: LoadedProfile[] = [];
  const problems: ProfileProblem[] = [];
  const byId = new Map<string, LoadedProfile>();
  const readDir = (dir: string, origin: LoadedProfile['origin']): void => {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch (error) {
      problems.push(`${dir}: (directory): cannot read the profile directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return;
    }
    for (const name of names) {
      if (profiles.length >= MAX_PROFILES) {
        problems.push(`${dir}: (directory): more than ${MAX_PROFILES} profiles`);
        return;
      }
      const file = join(dir, name);
      const parsed = parseProfileText(readFileSync(file, 'utf8'), origin === 'shipped' ? `ingest/profiles/${name}` : file);
      if (!parsed.ok) {
        problems.push(...parsed.problems);
        continue;
      }
      const existing = byId.get(parsed.profile.id);
      if (existing) {
        problems.push(`${file}: id: profile ${parsed.profile.id} is already defined by ${existing.file}`);
        continue;
      }
      const loaded = { profile: parsed.profile, file: origin === 'shipped' ? `ingest/profiles/${basename(file)}` : file, origin };
      byId.set(parsed.profile.id, loaded);
      profiles.push(loaded);
    }
  };
  readDir(shippedDir, 'shipped');
  if (operatorDir) readDir(operatorDir, 'operator');
  return { profiles, problems };
}

export type ProfileSet = ReturnType<typeof createProfileSet>;

/**
 * The profiles in force, and each device's. The hot path asks `forDevice` per decoded
 * uplink: answered from a WeakMap keyed by the registry's DeviceInfo object (the registry
 * replaces it when the device changes, so a new profile name is never served stale).
 */
export function createProfileSet(loaded: readonly LoadedProfile[], onUnknown?: (deviceId: string, profileId: string) => void) {
  const compiled = new Map<string, CompiledProfile>();
  for (const l of loaded) compiled.set(l.profile.id, compileProfile(l.profile));
  const generic = new Map(DEVICE_KINDS.map((k) => [k, genericProfile(k)] as const));
  const cache = new WeakMap<DeviceInfo, CompiledProfile>();

  function forDevice(device: DeviceInfo): CompiledProfile {
    let p = cache.get(device);
    if (p === undefined) {
      const named = device.profile === undefined ? undefined : compiled.get(device.profile);
      if (device.profile !== undefined && (!named || named.kind !== device.kind)) onUnknown?.(device.id, device.profile);
      p = named && named.kind === device.kind ? named : generic.get(device.kind)!;
      cache.set(device, p);
    }
    return p;
  }

  const view = (l: LoadedProfile | undefined, c: CompiledProfile): DeviceProfileView => ({
    id: c.id,
    vendor: c.source.vendor,
    model: c.source.model,
    kind: c.kind,
    origin: l ? l.origin : 'builtin',
    ...(l ? { file: l.file } : {}),
    decoders: c.source.decoders.map((d) => ({ name: d.name, versions: d.versions, ...(d.source ? { source: d.source } : {}) })),
    fields: Object.fromEntries(c.entries.map((e) => [e.target, { from: [...e.from], unit: e.unit, range: [e.range[0], e.range[1]] as [number, number] }])),
    required: [...c.required],
    ...(c.source.battery ? { battery: { chemistry: c.source.battery.chemistry, curve: c.source.battery.curve.map(([v, pct]) => [v, pct] as [number, number]) } } : {}),
    ...(c.history ? { history: { path: c.history.path, time: { ...c.history.time }, max: c.history.max } } : {}),
    ...(c.measurements ? { measurements: { ...c.measurements } } : {}),
  });

  return {
    forDevice,
    has: (id: string): boolean => compiled.has(id),
    kindOf: (id: string): DeviceKind | undefined => compiled.get(id)?.kind,
    /** Every profile in force, the generic one per kind last. */
    list(): DeviceProfileView[] {
      return [...loaded.map((l) => view(l, compiled.get(l.profile.id)!)), ...[...generic.values()].map((g) => ({ ...view(undefined, g), id: `generic-${g.kind}` }))];
    },
    get(id: string): DeviceProfileView | undefined {
      const l = loaded.find((x) => x.profile.id === id);
      if (l) return view(l, compiled.get(id)!);
      const g = [...generic.values()].find((x) => `generic-${x.kind}` === id);
      return g ? { ...view(undefined, g), id } : undefined;
    },
  };
}

