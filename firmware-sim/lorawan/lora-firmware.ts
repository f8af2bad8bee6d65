import type { Random } from '../../lib/random.ts';
import type { SimDevice } from '../fleet/spec.ts';
import { createReportLoop } from '../firmware/report-loop.ts';
import type { SimStats } from '../firmware/stats.ts';
import { handleValveCommand } from '../firmware/valve-commands.ts';
import type { SimClock } from '../sim-clock.ts';
import type { World } from '../world.ts';
import type { NetworkServer } from './network-server.ts';

/**
 * A LoRaWAN class A node: it reports on its schedule through whichever gateway hears it;
 * there is no session to keep and no store-and-forward (a lost uplink is lost). Valves
 * take commands as downlinks and confirm them.
 */
export function createLoraFirmware(deps: { device: SimDevice; world: World; clock: SimClock; rng: Random; stats: SimStats; ns: () => NetworkServer; jitter?: number }) {
  const { device, world, clock, stats } = deps;
  let seq = 0;
  let cancelAutoOff: (() => void) | undefined;

  function report(): void {
    const payload = world.report(device.id, clock.now(), seq);
    if (payload === undefined) {
      stats.silent++;
      return;
    }
    seq++;
    stats.generated++;
    void deps.ns().uplink(device, payload, clock.now());
  }

  const loop = createReportLoop({ intervalS: device.reportIntervalS, jitter: deps.jitter ?? 0.1, clock, rng: deps.rng, report });
  return {
    device,
    seq: () => seq,
    start: () => loop.start(),
    stopReporting: () => loop.stop(),
    stop(): void {
      loop.stop();
      cancelAutoOff?.();
    },
    onDownlink(body: unknown): void {
      stats.commandsReceived++;
      const outcome = handleValveCommand(world, device.id, body, clock.now());
      if (!outcome.obeyed) {
        stats.commandsRejected++;
        return;
      }
      stats.commandsObeyed++;
      void deps.ns().downlinkAck(device, clock.now());
      report();
      cancelAutoOff?.();
      cancelAutoOff = outcome.closeAt === undefined ? undefined : clock.after(outcome.closeAt - clock.now() + 1, report);
    },
  };
}
