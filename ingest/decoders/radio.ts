/** The gateway that heard the uplink best (highest RSSI, then SNR), for the reading's rssi/snr. */
export function pickBestGateway(gateways: ReadonlyArray<{ rssi: number | undefined; snr: number | undefined }>): { rssi: number; snr: number | undefined } | undefined {
  let best: { rssi: number; snr: number | undefined } | undefined;
  for (const g of gateways) {
    if (g.rssi === undefined) continue;
    if (!best || g.rssi > best.rssi || (g.rssi === best.rssi && (g.snr ?? -Infinity) > (best.snr ?? -Infinity))) best = { rssi: g.rssi, snr: g.snr };
  }
  return best;
}
