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

export class TypedEvents<M extends object> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();

  /** `onListenerError` receives what a listener throws (default: a process warning). */
  constructor(private readonly onListenerError: ListenerErrorHandler = warnListenerError) {}

  /** Adds a listener; the returned function removes it (calling it twice is harmless). */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): Unsubscribe {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    // A wrapper per registration, so the same function registered twice is removed once per call.
    const entry: Listener<M[K]> = (p) => listener(p);
    set.add(entry as Listener<never>);
    return () => {
      const s = this.listeners.get(name);
      if (!s) return;
      s.delete(entry as Listener<never>);
      if (s.size === 0) this.listeners.delete(name);
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
    const set = this.listeners.get(name);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<M[K]>)(payload);
      } catch (err) {
        this.onListenerError(err, String(name));
      }
    }
  }

  /** Listeners registered under `name`, or under every name when omitted. */
  listenerCount(name?: keyof M): number {
    if (name !== undefined) return this.listeners.get(name)?.size ?? 0;
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  /** Drops every listener (the owner is closing). */
  clear(): void {
    this.listeners.clear();
  }
}
