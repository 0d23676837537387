/**
 * Typed events. Every emitter in the core is one of these instead of a string-keyed
 * EventEmitter: the compiler checks each payload, and `on` hands back the function that
 * removes the listener, so whoever subscribes holds its own way out (a node keeps it and
 * calls it on close; a redeploy then leaves every emitter's listener count where it was).
 */

export type Unsubscribe = () => void;

type Listener<T> = (payload: T) => void;

/** Where a listener's throw goes: a bug of the listener's owner, reported while the emitter goes on. */
export type ListenerErrorHandler = (err: unknown, event: string) => void;

/** The line a listener's throw is logged as. */
export const listenerFailed = (err: unknown, event: string): string =>
  `A listener of "${event}" failed: ${err instanceof Error ? err.message : String(err)}`;

/** The default: a process warning naming the event (Node-RED and the CLI print it to their log). */
export const warnListenerError: ListenerErrorHandler = (err, event) =>
  process.emitWarning(listenerFailed(err, event), "MerossListenerError");

/**
 * Listeners are kept in arrays replaced on every change (copy-on-write): emit walks the array it
 * found without copying it, and a listener added or removed meanwhile changes only the next emit.
 * Changes are rare (a node starts or closes), emits are frequent (every push).
 */
export class TypedEvents<M extends object> {
  private readonly listeners = new Map<keyof M, ReadonlyArray<Listener<never>>>();

  /** `onListenerError` receives what a listener throws (default: a process warning). */
  constructor(private readonly onListenerError: ListenerErrorHandler = warnListenerError) {}

  /** Adds a listener; the returned function removes it (calling it twice is harmless). */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): Unsubscribe {
    // A wrapper per registration, so the same function registered twice is removed once per call.
    const entry: Listener<M[K]> = (p) => listener(p);
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), entry as Listener<never>]);
    return () => {
      const list = this.listeners.get(name);
      const i = list ? list.indexOf(entry as Listener<never>) : -1;
      if (!list || i < 0) return;
      if (list.length === 1) this.listeners.delete(name);
      else this.listeners.set(name, [...list.slice(0, i), ...list.slice(i + 1)]);
    };
  }

  /** Like on(), removed after the first call. */
  once<K extends keyof M>(name: K, listener: Listener<M[K]>): Unsubscribe {
    const off = this.on(name, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  /**
   * Calls every listener with `payload`. A listener that throws is a bug of its owner: it is
   * reported through `onListenerError` and never stops the others or the emitter.
   */
  emit<K extends keyof M>(name: K, payload: M[K]): void {
    const list = this.listeners.get(name);
    if (!list) return;
    for (const l of list) {
      try {
        (l as Listener<M[K]>)(payload);
      } catch (err) {
        this.onListenerError(err, String(name));
      }
    }
  }

  /** Listeners registered under `name`, or under every name when omitted. */
  listenerCount(name?: keyof M): number {
    if (name !== undefined) return this.listeners.get(name)?.length ?? 0;
    let n = 0;
    for (const s of this.listeners.values()) n += s.length;
    return n;
  }

  /** Drops every listener (the owner is closing). */
  clear(): void {
    this.listeners.clear();
  }
}

/**
 * Listeners per key (a device uuid): emit(key) reaches only that key's listeners through one
 * map lookup, so its cost does not grow with the number of keys (a fleet of devices).
 */
export class KeyedEvents<T> {
  private readonly byKey = new Map<string, ReadonlyArray<Listener<T>>>();

  /** `onListenerError` receives what a listener throws (default: a process warning). */
  constructor(
    private readonly name = "keyed",
    private readonly onListenerError: ListenerErrorHandler = warnListenerError,
  ) {}

  on(key: string, listener: Listener<T>): Unsubscribe {
    const entry: Listener<T> = (p) => listener(p);
    this.byKey.set(key, [...(this.byKey.get(key) ?? []), entry]);
    return () => {
      const list = this.byKey.get(key);
      const i = list ? list.indexOf(entry) : -1;
      if (!list || i < 0) return;
      if (list.length === 1) this.byKey.delete(key);
      else this.byKey.set(key, [...list.slice(0, i), ...list.slice(i + 1)]);
    };
  }

  /** Calls the listeners of `key`; one that throws never stops the others. */
  emit(key: string, payload: T): void {
    const list = this.byKey.get(key);
    if (!list) return;
    for (const l of list) {
      try {
        l(payload);
      } catch (err) {
        // A listener's bug is its owner's: reported, and the emitter's own work goes on.
        this.onListenerError(err, `${this.name} ${key}`);
      }
    }
  }

  /** Listeners under `key`, or under every key when omitted. */
  listenerCount(key?: string): number {
    if (key !== undefined) return this.byKey.get(key)?.length ?? 0;
    let n = 0;
    for (const l of this.byKey.values()) n += l.length;
    return n;
  }

  clear(): void {
    this.byKey.clear();
  }
}
