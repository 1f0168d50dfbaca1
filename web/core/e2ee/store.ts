// Where the E2EE state lives: a small async key-value interface, in memory (node tests) or in
// IndexedDB (the browser). In IndexedDB every record is sealed with AES-256-GCM under a
// non-extractable WebCrypto key made once per database and kept there as a CryptoKey
// (structured clone keeps it non-extractable): script can use it but never read it out. Pages
// without crypto.subtle (plain HTTP from a LAN address) store records unwrapped.

/** The persistence the library needs. Values are JSON-compatible records. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  keys(prefix: string): Promise<string[]>;
}

/** Record keys: one place, so every module agrees. */
export const storeKeys = {
  device: 'device',
  oneTimePrekey: (id: number) => `opk:${id}`,
  oneTimePrekeys: 'opk:',
  identity: (user: string, device: string) => `identity:${encodeURIComponent(user)}:${device}`,
  identities: (user: string) => `identity:${encodeURIComponent(user)}:`,
  outboundChannel: (user: string, device: string) => `out-channel:${encodeURIComponent(user)}:${device}`,
  inboundChannel: (senderDevice: string, eph: string) => `in-channel:${senderDevice}:${eph}`,
  outboundGroup: (room: string) => `out-group:${encodeURIComponent(room)}`,
  outboundGroups: 'out-group:',
  inboundGroup: (room: string, sessionId: string) => `in-group:${encodeURIComponent(room)}:${sessionId}`,
  inboundGroups: (room: string) => `in-group:${encodeURIComponent(room)}:`,
  inboundSeen: (room: string, sessionId: string) => `in-seen:${encodeURIComponent(room)}:${sessionId}`,
};

/** In-memory store: values are deep-copied in and out, like a real store. */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, unknown>();

  async get<T>(key: string): Promise<T | undefined> {
    const v = this.map.get(key);
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    this.map.set(key, structuredClone(value));
  }

  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

const RECORDS = 'records';
const META = 'meta';
const WRAP_KEY = 'wrap-key';

type Sealed = { iv: Uint8Array<ArrayBuffer>; ct: ArrayBuffer } | { plain: string };

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function openDatabase(name: string): Promise<IDBDatabase> {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore(RECORDS);
    r.result.createObjectStore(META);
  };
  return request(r);
}

/** The wrapping key of the database, made on first use (two tabs racing keep the first one written). */
async function wrappingKey(db: IDBDatabase): Promise<CryptoKey | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const existing = await request(db.transaction(META).objectStore(META).get(WRAP_KEY));
  if (existing) return existing as CryptoKey;
  const made = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  return new Promise((resolve, reject) => {
    const tx = db.transaction(META, 'readwrite');
    const meta = tx.objectStore(META);
    let key: CryptoKey = made;
    const get = meta.get(WRAP_KEY);
    get.onsuccess = () => {
      if (get.result) key = get.result as CryptoKey;
      else meta.put(made, WRAP_KEY);
    };
    tx.oncomplete = () => resolve(key);
    tx.onerror = () => reject(tx.error);
  });
}

/** IndexedDB store: records sealed under the database's non-extractable AES-GCM key. */
export class IndexedDbStore implements KeyValueStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey | null,
  ) {}

  /** Opens (or creates) the database `name`; one per signed-in user is a good choice. */
  static async open(name = 'chat-e2ee'): Promise<IndexedDbStore> {
    const db = await openDatabase(name);
    return new IndexedDbStore(db, await wrappingKey(db));
  }

  /** Whether records are sealed (false only without crypto.subtle). */
  get wrapped(): boolean {
    return this.key !== null;
  }

  private async seal(key: string, value: unknown): Promise<Sealed> {
    const json = JSON.stringify(value);
    if (!this.key) return { plain: json };
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const data = new TextEncoder().encode(json);
    const ct = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(key) }, this.key, data);
    return { iv, ct };
  }

  private async unseal<T>(key: string, sealed: Sealed): Promise<T> {
    if ('plain' in sealed) return JSON.parse(sealed.plain) as T;
    if (!this.key) throw new Error('sealed record but no wrapping key');
    const data = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv, additionalData: new TextEncoder().encode(key) }, this.key, sealed.ct);
    return JSON.parse(new TextDecoder().decode(data)) as T;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const sealed = (await request(this.db.transaction(RECORDS).objectStore(RECORDS).get(key))) as Sealed | undefined;
    return sealed === undefined ? undefined : this.unseal<T>(key, sealed);
  }

  async put(key: string, value: unknown): Promise<void> {
    const sealed = await this.seal(key, value);
    const tx = this.db.transaction(RECORDS, 'readwrite');
    tx.objectStore(RECORDS).put(sealed, key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  async delete(key: string): Promise<void> {
    const tx = this.db.transaction(RECORDS, 'readwrite');
    tx.objectStore(RECORDS).delete(key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  async keys(prefix: string): Promise<string[]> {
    const range = IDBKeyRange.bound(prefix, prefix + '\uffff');
    const keys = await request(this.db.transaction(RECORDS).objectStore(RECORDS).getAllKeys(range));
    return (keys as string[]).sort();
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}
