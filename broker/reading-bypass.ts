import mqemitter from 'mqemitter';

/**
 * The message bus aedes delivers publishes through (its `mq` option), with one shortcut:
 * a reading nobody subscribed to goes no further than the ingest, which has already
 * taken it. aedes matches every publish against every subscription (qlobber splits the
 * topic and walks a trie); under a flood of readings that nobody but the ingest reads
 * this was ~4 % of the event loop. Any subscription that could match a reading topic
 * (`#`, `gs/#`, `gs/+/up`, `+/+/up`, one device's topic, the LoRaWAN forms) turns the
 * shortcut off until it is gone, so a subscriber never misses one.
 */

/** The topic shapes that carry readings (contracts/topics.ts); `*` is any one level. */
const READING_SHAPES: ReadonlyArray<readonly string[]> = [
  ['gs', '*', 'up'],
  ['application', '*', 'device', '*', 'event', 'up'],
  ['v3', '*', 'devices', '*', 'up'],
];

/** Could an MQTT topic filter match some topic of this shape? */
function filterMatchesShape(filter: readonly string[], shape: readonly string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i]!;
    if (level === '#') return true;
    if (i >= shape.length) return false;
    if (level !== '+' && shape[i] !== '*' && level !== shape[i]) return false;
  }
  return filter.length === shape.length;
}

/** Could a subscription to `filter` receive a reading? */
export function filterCouldMatchReadings(filter: string): boolean {
  const levels = filter.split('/');
  return READING_SHAPES.some((shape) => filterMatchesShape(levels, shape));
}

type Notify = (packet: unknown, done: () => void) => void;
type Callback = (error?: unknown) => void;

export interface ReadingBypassEmitter {
  on(topic: string, notify: Notify, done?: Callback): unknown;
  removeListener(topic: string, notify: Notify, done?: Callback): unknown;
  emit(packet: { topic: string }, done?: Callback): unknown;
  close(done: () => void): void;
  /** Subscriptions that could receive a reading (0: readings skip the bus). */
  readingSubscribers(): number;
}

/** `concurrency`, `matchEmptyLevels`: as aedes builds its own emitter. */
export function createReadingBypassEmitter(isReadingTopic: (topic: string) => boolean, options = { concurrency: 100, matchEmptyLevels: true }): ReadingBypassEmitter {
  const inner = mqemitter(options);
  // Registrations per filter that could match a reading, counted as mqemitter keeps them:
  // each `on` is one, each `removeListener` takes one away.
  const watching = new Map<string, Map<Notify, number>>();
  let count = 0;
  return {
    on(topic, notify, done) {
      if (filterCouldMatchReadings(topic)) {
        let byNotify = watching.get(topic);
        if (!byNotify) watching.set(topic, (byNotify = new Map()));
        byNotify.set(notify, (byNotify.get(notify) ?? 0) + 1);
        count++;
      }
      return inner.on(topic, notify as never, done);
    },
    removeListener(topic, notify, done) {
      const byNotify = watching.get(topic);
      const n = byNotify?.get(notify);
      if (byNotify && n !== undefined) {
        count--;
        if (n > 1) byNotify.set(notify, n - 1);
        else {
          byNotify.delete(notify);
          if (byNotify.size === 0) watching.delete(topic);
        }
      }
      return inner.removeListener(topic, notify as never, done);
    },
    emit(packet, done) {
      if (count === 0 && isReadingTopic(packet.topic)) {
        done?.();
        return;
      }
      return inner.emit(packet as never, done);
    },
    close: (done) => inner.close(done),
    readingSubscribers: () => count,
  };
}
