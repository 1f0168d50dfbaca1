// Coordination between the tabs of one browser: a message channel (BroadcastChannel) and
// named locks (Web Locks). Where either is missing (Node, old browsers) messages stay in the
// tab and locks are held within this JavaScript realm, which is then all there is to share.

export interface TabChannel<T> {
  post(message: T): void;
  subscribe(fn: (message: T) => void): () => void;
  close(): void;
}

export function tabChannel<T>(name: string): TabChannel<T> {
  const Ctor = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
  const listeners = new Set<(m: T) => void>();
  const channel = Ctor ? new Ctor(name) : null;
  if (channel) {
    channel.onmessage = (e: MessageEvent) => {
      for (const fn of listeners) fn(e.data as T);
    };
  }
  return {
    post: (m) => channel?.postMessage(m),
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () => channel?.close(),
  };
}

const localTails = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock `name`, shared by every tab of the origin when the browser has Web Locks. */
export function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks) return locks.request(name, fn) as Promise<T>;
  const prev = localTails.get(name) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  localTails.set(name, tail);
  void tail.then(() => {
    if (localTails.get(name) === tail) localTails.delete(name);
  });
  return run;
}
