// The publish/subscribe bus between server instances. In-process without REDIS_URL,
// Redis pub/sub with it; the same interface either way. Payloads are strings, serialized once.
export type BusHandler = (payload: string) => void;

export interface Bus {
  publish(channel: string, payload: string): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  /** Called after the bus lost and regained its connection: messages may have been missed. */
  onResync(listener: () => void): void;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Handler bookkeeping shared by both implementations. */
export class Subscribers {
  private readonly byChannel = new Map<string, Set<BusHandler>>();

  /** Adds; true when this is the channel's first handler. */
  add(channel: string, handler: BusHandler): boolean {
    let set = this.byChannel.get(channel);
    const first = !set;
    if (!set) this.byChannel.set(channel, (set = new Set()));
    set.add(handler);
    return first;
  }

  /** Removes; true when the channel has no handler left. */
  remove(channel: string, handler: BusHandler): boolean {
    const set = this.byChannel.get(channel);
    if (!set) return false;
    set.delete(handler);
    if (set.size > 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  deliver(channel: string, payload: string, onError: (err: unknown) => void): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(payload);
      } catch (err) {
        onError(err);
      }
    }
  }
}
