import { z } from 'zod';
import { SensorTrack } from './zone-state.ts';
import type { AlertSignal } from '../../contracts/alert.ts';
import type { CommandAck, ValveCommand } from '../../contracts/commands.ts';
import type { MoistureBand, ZoneConfig } from '../../contracts/zone.ts';
import type { IrrigationSettings } from './settings.ts';
import { DECISION_ACTIONS, type DecisionAction } from '../../contracts/zone-action.ts';

const PendingCommand = z.object({
  commandId: z.string(),
  action: z.enum(['open', 'close']),
  sentAt: z.number(),
  attempts: z.number().int(),
  autoOffS: z.number().optional(),
  /** The valve refused it as stale once and it was re-issued with a fresh issuedAt: a second refusal is a fault. */
  staleResent: z.boolean().optional(),
});
export type PendingCommand = z.infer<typeof PendingCommand>;

/**
 * One watering run. Phases: opening (open sent, awaiting ack) → watering → closing
 * (close sent) → done; with cycle-and-soak, watering → soak_closing → soaking → opening.
 */
export const Run = z.object({
  id: z.string(),
  startedAt: z.number(),
  reason: z.string(),
  actor: z.string().optional(),
  phase: z.enum(['opening', 'watering', 'soak_closing', 'soaking', 'closing']),
  phaseSince: z.number(),
  /** Watering time of finished cycles (ms). */
  wateredMs: z.number(),
  /** Watering time this run may use (s), after the seasonal factor and the budget. */
  plannedS: z.number(),
  /** Runs started by the sensors also stop on them; an operator's run without sensors runs its time. */
  sensorDriven: z.boolean(),
  startMoisture: z.number().optional(),
  effectSeen: z.boolean(),
  /** Last flow the valve reported during the run (L/min). */
  flowLpm: z.number().optional(),
  cycle: z.number().int(),
  /** predictive: the moisture the run was sized to reach; it stops there. */
  target: z.number().optional(),
  pending: PendingCommand.optional(),
  stopReason: z.string().optional(),
});
export type Run = z.infer<typeof Run>;

/** Everything the decider remembers about a zone; persisted as JSON so a restart loses nothing. */
export const ZoneIrrigationState = z.object({
  zoneId: z.string(),
  sensors: z.record(z.string(), SensorTrack),
  rain: z.array(z.object({ at: z.number(), mm: z.number() })),
  forecast: z.object({ rainMm: z.number(), minAirTempC: z.number().optional(), et0MmDay: z.number().optional(), validUntil: z.number(), postedBy: z.string().optional() }).optional(),
  /** The last reference ET0 a forecast brought (mm/day), kept past the forecast's validity: the last known value is a fair guess for a water balance. */
  et0: z.object({ mmDay: z.number(), at: z.number() }).optional(),
  dryingSince: z.number().optional(),
  run: Run.optional(),
  lastRunEndAt: z.number().optional(),
  /** Volumes of runs in the last 24 h, for the daily budget. */
  usage: z.array(z.object({ at: z.number(), volumeL: z.number() })),
  skipNext: z.object({ by: z.string(), at: z.number() }).optional(),
  /** Set when a skip-next was spent inside a window: no start until the window closes. */
  skipHold: z.boolean().optional(),
  pausedUntil: z.number().optional(),
  pausedBy: z.string().optional(),
  /** The last skip reason recorded in this dry spell: a skip is recorded once, not every tick. */
  lastSkip: z.string().optional(),
  /** Alerts this zone has raised and not yet cleared. */
  raised: z.array(z.enum(['watering_needed', 'valve_no_ack', 'valve_no_effect', 'zone_infeasible', 'sensor_disagreement'])),
  /** Whether a zone's two soil sensors still agree (rules/irrigation/sensor-check.ts). */
  sensorCheck: z.object({
    /** The two sensors compared, by id. */
    pair: z.tuple([z.string(), z.string()]),
    /** Their difference (first − second) when they were first compared, points; the reference a drift is measured from. */
    offset: z.number(),
    refSamples: z.number().int(),
    lastSampleAt: z.number(),
    /** Since when the difference has stood more than disagreePoints off the reference. */
    divergedSince: z.number().optional(),
    /** Samples in a row back within half the tolerance. */
    agreeing: z.number().int(),
    /** The sensor left out of the zone's moisture while the alert stands. */
    distrusted: z.string().optional(),
  }).optional(),
  /** Whether the zone can be held in its band (rules/irrigation/feasibility.ts). */
  feasibility: z.object({
    /** Local days running (days since the epoch) on which runs that gave all they were allowed left the zone below its low. */
    shortDays: z.number().int(),
    lastShortDay: z.number().int().optional(),
    lastMoisture: z.number().optional(),
    /** What the raised zone_infeasible alert is about (`band:<code>` or `runs`); undefined when none is. */
    cause: z.string().optional(),
  }).optional(),
  /** Counter for unique, deterministic command and run ids. */
  seq: z.number().int(),
  /** What the predictive controller learned of this zone (rules/irrigation/learn.ts). */
  learn: z.object({
    /** The drying reference: moisture at refAt, with no water in since. */
    refAt: z.number().optional(),
    refMoisture: z.number().optional(),
    /** Points lost per day without water (evapotranspiration and drainage), learned. */
    dryPerDay: z.number().optional(),
    /** Points lost per mm of reference ET0 (the drying rate ÷ the day's ET0), learned where ET0 is known. */
    dryPerMmEt0: z.number().optional(),
    /** Points gained per litre of a run, learned. */
    pointsPerL: z.number().optional(),
    /** A finished run whose response waits for the first reading taken after it ended. */
    responseRun: z.object({ startMoisture: z.number(), volumeL: z.number().positive(), endAt: z.number() }).optional(),
  }).optional(),
});
export type ZoneIrrigationState = z.infer<typeof ZoneIrrigationState>;

export const initialZoneState = (zoneId: string): ZoneIrrigationState => ({ zoneId, sensors: {}, rain: [], usage: [], raised: [], seq: 0 });

export type OperatorOp =
  | { op: 'water_now'; by: string; durationS?: number }
  | { op: 'skip_next'; by: string }
  | { op: 'pause'; by: string; days: number };

export type IrrigationEvent =
  | { type: 'soil'; deviceId: string; at: number; moisture: number; temperature?: number; intervalS: number }
  | { type: 'rain'; at: number; mm: number }
  | { type: 'valve'; at: number; state?: number; flowLpm?: number }
  | { type: 'ack'; ack: CommandAck }
  | { type: 'forecast'; rainMm: number; minAirTempC?: number; et0MmDay?: number; validUntil: number; by?: string }
  | { type: 'operator'; operation: OperatorOp }
  | { type: 'tick' }
  /** The process restarted with this state persisted: close any run it was in. */
  | { type: 'restored' };

/** The inputs every decision is explained by. */
export interface DecisionInputs {
  moisture: number | undefined;
  counted: string[];
  excluded: Array<{ deviceId: string; reason: string }>;
  band: MoistureBand;
  inWindow: boolean;
  windows: string[];
  rainMm: number;
  forecastRainMm: number | undefined;
  /** Reference ET0 (mm/day) the prediction uses: a valid forecast's, else the last known; undefined: none ever came. */
  et0MmDay?: number;
  et0From?: 'forecast' | 'last_known';
  temperatureC: number | undefined;
  budgetUsedL: number;
  budgetL: number;
  seasonalFactor: number;
  sinceLastRunS: number | undefined;
  pausedUntil: number | undefined;
  /** In an operator's words, why (the predictive controller's forecast and sizing). */
  why?: string;
}

export { DECISION_ACTIONS, type DecisionAction };

export interface Decision {
  zoneId: string;
  at: number;
  action: DecisionAction;
  reason: string;
  mode: ZoneConfig['mode'];
  runId?: string;
  actor?: string;
  durationS?: number;
  volumeL?: number;
  inputs: DecisionInputs;
}

export type IrrigationAction =
  | { type: 'command'; valveId: string; command: ValveCommand }
  | { type: 'record'; decision: Decision }
  | { type: 'signal'; signal: AlertSignal };

/** What the decider is given besides state and event: the zone, its settings and the time. */
export interface DecideContext {
  now: number;
  zone: ZoneConfig;
  settings: IrrigationSettings;
}

export interface DecideResult {
  state: ZoneIrrigationState;
  actions: IrrigationAction[];
  /** When the decider next needs a tick for this zone (an ack deadline, the end of a soak...). */
  wakeAt: number | undefined;
}
