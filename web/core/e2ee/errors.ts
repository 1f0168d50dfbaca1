// Typed failures of the E2EE library. Every refusal to decrypt is a DecryptError with a code, so
// the view can show "Unable to decrypt" for that message alone.

/** Why something could not be decrypted. */
export type DecryptCode =
  | 'malformed' // not our format, wrong sizes, bad base64
  | 'unsupported_version'
  | 'wrong_recipient' // addressed to another device, or our keys do not open it
  | 'bad_signature'
  | 'bad_ciphertext' // AES-GCM authentication failed (tampered, or the wrong key)
  | 'bad_hash' // attachment bytes do not match their SHA-256
  | 'replay' // an index already used (pairwise), or the same group index under another message
  | 'too_far' // an index beyond the bounded skip window
  | 'unknown_prekey' // the signed or one-time prekey named is gone (consumed, or never ours)
  | 'unknown_session' // no group session key for this message (yet)
  | 'index_too_early' // a group message from before the index our key starts at
  | 'sender_mismatch' // a group message whose sender is not the session's owner
  | 'identity_changed'; // a known device came back with other keys

/** Base class of the library's errors. */
export class E2eeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A message, envelope or attachment that cannot (or must not) be decrypted. */
export class DecryptError extends E2eeError {
  constructor(
    readonly code: DecryptCode,
    message: string = code,
  ) {
    super(message);
  }
}

/** Public keys of one device, base64. */
export interface DeviceIdentity {
  identity_key: string;
  signing_key: string;
}

/** A device we knew with other keys: surfaced, never replaced silently. */
export class IdentityChangedError extends DecryptError {
  constructor(
    readonly user: string,
    readonly device_id: string,
    readonly known: DeviceIdentity,
    readonly seen: DeviceIdentity,
  ) {
    super('identity_changed', `device ${device_id} of user ${user} presents new identity keys`);
  }
}

/** A claimed prekey bundle that is malformed or whose signed prekey is not signed by its signing key. */
export class BundleError extends E2eeError {}
