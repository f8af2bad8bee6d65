/**
 * A named set of listeners, each run in its own guard: a throw in one is reported with the
 * listener's name and the next still runs. `add` returns the unsubscribe, so a feature's
 * subscriptions end with its stop.
 *
 * `emit` is on the ingest's hot path (every accepted reading): it loops over an array that
 * is rebuilt only when a listener is added or removed.
 */
export interface Listeners<Args extends unknown[]> {
  add(name: string, listener: (...args: Args) => void): () => void;
  emit(...args: Args): void;
  /** The names subscribed now, in call order. */
  names(): string[];
}

export function createListeners<Args extends unknown[]>(onError: (name: string, error: unknown) => void): Listeners<Args> {
  let entries: ReadonlyArray<{ name: string; listener: (...args: Args) => void }> = [];
  return {
    add(name, listener) {
      const entry = { name, listener };
      entries = [...entries, entry];
      return () => {
        entries = entries.filter((e) => e !== entry);
      };
    },
    emit(...args) {
      const current = entries;
      for (let i = 0; i < current.length; i++) {
        const entry = current[i]!;
        try {
          entry.listener(...args);
        } catch (error) {
          onError(entry.name, error);
        }
      }
    },
    names: () => entries.map((e) => e.name),
  };
}
