import { z } from 'zod';
import { err, ok, type Result } from '../../lib/result.ts';

export const WORK_ORDER_STATES = ['open', 'assigned', 'accepted', 'resolved', 'closed', 'cancelled'] as const;
export const WorkOrderState = z.enum(WORK_ORDER_STATES);
export type WorkOrderState = z.infer<typeof WorkOrderState>;

export const WorkOrderAction = z.discriminatedUnion('action', [
  z.object({ action: z.literal('assign'), assignee: z.string().min(1) }),
  z.object({ action: z.literal('accept') }),
  z.object({ action: z.literal('resolve'), note: z.string().trim().min(1), photoUrl: z.url().optional() }),
  /** The operator checks the fix and closes the ledger entry (销号). */
  z.object({ action: z.literal('verify'), note: z.string().optional() }),
  /** The operator finds the fix insufficient: back to the technician. */
  z.object({ action: z.literal('reject'), note: z.string().trim().min(1) }),
  /** The alert cleared by itself before anyone was dispatched. */
  z.object({ action: z.literal('cancel'), note: z.string().min(1) }),
]);
export type WorkOrderAction = z.infer<typeof WorkOrderAction>;

const FROM: Record<WorkOrderAction['action'], readonly WorkOrderState[]> = {
  assign: ['open', 'assigned', 'accepted'],
  accept: ['assigned'],
  resolve: ['assigned', 'accepted'],
  verify: ['resolved'],
  reject: ['resolved'],
  cancel: ['open'],
};
const TO: Record<WorkOrderAction['action'], WorkOrderState> = {
  assign: 'assigned', accept: 'accepted', resolve: 'resolved', verify: 'closed', reject: 'assigned', cancel: 'cancelled',
};

/** The work-order state machine: the next state, or why the action is not allowed now. */
export function nextWorkOrderState(current: WorkOrderState, action: WorkOrderAction): Result<WorkOrderState, string> {
  if (!FROM[action.action].includes(current)) {
    return err(`cannot ${action.action} a work order that is ${current} (allowed from ${FROM[action.action].join(', ')})`);
  }
  return ok(TO[action.action]);
}
