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
 * Listeners kept per key in arrays replaced on every change (copy-on-write): emit walks the
 * array it found without copying it, and a listener added or removed meanwhile changes only the
 * next emit. Changes are rare (a node starts or closes), emits are frequent (every push).
 * TypedEvents keys them by event name, KeyedEvents by a device uuid.
 */
class ListenerLists<K> {
  /** Made at the first listener: many emitters (one set per device) never get one for some events. */
  private lists: Map<K, ReadonlyArray<Listener<never>>> | undefined;

  /** A throw is reported to `onError` as an event named `prefix key` (or just `key`). */
  constructor(
    private readonly onError: ListenerErrorHandler,
    private readonly prefix = "",
  ) {}

  on<T>(key: K, listener: Listener<T>): Unsubscribe {
    // A wrapper per registration, so the same function registered twice is removed once per call.
    const entry = ((p: T) => listener(p)) as Listener<never>;
    const lists = (this.lists ??= new Map());
    lists.set(key, [...(lists.get(key) ?? []), entry]);
    return () => {
      const list = lists.get(key);
      const i = list ? list.indexOf(entry) : -1;
      if (!list || i < 0) return;
      if (list.length === 1) lists.delete(key);
      else lists.set(key, [...list.slice(0, i), ...list.slice(i + 1)]);
    };
  }

  /** A listener that throws is reported through `onError` and never stops the others or the emitter. */
  emit<T>(key: K, payload: T): void {
    const list = this.lists?.get(key);
    if (!list) return;
    for (const l of list) {
      try {
        (l as Listener<T>)(payload);
      } catch (err) {
        this.onError(err, this.prefix ? `${this.prefix} ${String(key)}` : String(key));
      }
    }
  }

  count(key?: K): number {
    if (!this.lists) return 0;
    if (key !== undefined) return this.lists.get(key)?.length ?? 0;
    let n = 0;
    for (const l of this.lists.values()) n += l.length;
    return n;
  }

  clear(): void {
    this.lists?.clear();
  }
}

export class TypedEvents<M extends object> {
  private readonly lists: ListenerLists<keyof M>;

  /** `onListenerError` receives what a listener throws (default: a process warning). */
  constructor(onListenerError: ListenerErrorHandler = warnListenerError) {
    this.lists = new ListenerLists<keyof M>(onListenerError);
  }

  /** Adds a listener; the returned function removes it (calling it twice is harmless). */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): Unsubscribe {
    return this.lists.on(name, listener);
  }

  /** Like on(), removed after the first call. */
  once<K extends keyof M>(name: K, listener: Listener<M[K]>): Unsubscribe {
    const off = this.on(name, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  /** Calls every listener with `payload`; one that throws is reported and never stops the others. */
  emit<K extends keyof M>(name: K, payload: M[K]): void {
    this.lists.emit(name, payload);
  }

  /** Listeners registered under `name`, or under every name when omitted. */
  listenerCount(name?: keyof M): number {
    return this.lists.count(name);
  }

  /** Drops every listener (the owner is closing). */
  clear(): void {
    this.lists.clear();
  }
}

/**
 * Listeners per key (a device uuid): emit(key) reaches only that key's listeners through one
 * map lookup, so its cost does not grow with the number of keys (a fleet of devices).
 */
export class KeyedEvents<T> {
  private readonly lists: ListenerLists<string>;

  /** `onListenerError` receives what a listener throws (default: a process warning). */
  constructor(name = "keyed", onListenerError: ListenerErrorHandler = warnListenerError) {
    this.lists = new ListenerLists<string>(onListenerError, name);
  }

  on(key: string, listener: Listener<T>): Unsubscribe {
    return this.lists.on(key, listener);
  }

  /** Calls the listeners of `key`; one that throws never stops the others. */
  emit(key: string, payload: T): void {
    this.lists.emit(key, payload);
  }

  /** Listeners under `key`, or under every key when omitted. */
  listenerCount(key?: string): number {
    return this.lists.count(key);
  }

  clear(): void {
    this.lists.clear();
  }
}
