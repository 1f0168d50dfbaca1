// Random ids from getRandomValues, which (unlike crypto.randomUUID) also exists on pages
// served over plain HTTP from a LAN address.
export function randomId(bytes = 16): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
