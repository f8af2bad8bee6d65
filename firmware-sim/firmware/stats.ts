/** Fleet-wide counters for the end-of-run summary; plain numbers, bumped by the firmware. */
export function createSimStats() {
  return {
    /** Readings produced by devices (silent reports excluded). */
    generated: 0,
    /** Readings put on the wire (a retransmitted one counts again). */
    sent: 0,
    /** Readings the broker acknowledged (PUBACK). */
    acked: 0,
    /** Store-and-forward batches sent and the readings in them. */
    batches: 0,
    batchedReadings: 0,
    /** Readings dropped because a device's buffer was full. */
    dropped: 0,
    /** Reports a silent (faulty) device skipped. */
    silent: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    commandsReceived: 0,
    commandsObeyed: 0,
    commandsRejected: 0,
    acksSent: 0,
    /** LoRaWAN uplinks lost to a gateway outage. */
    uplinksLost: 0,
  };
}
export type SimStats = ReturnType<typeof createSimStats>;
