/** A function that runs what it is given one after another, each once the one before has settled (whether it failed or not). */
export type SerialQueue = <T>(fn: () => Promise<T>) => Promise<T>;

/** One queue of async calls: the notifier's transitions and ticks, the registry replica's ships and applies. */
export function createSerialQueue(): SerialQueue {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const mine = chain.catch(() => undefined).then(fn);
    chain = mine;
    return mine;
  };
}
