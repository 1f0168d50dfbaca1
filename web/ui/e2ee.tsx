// End-to-end encryption in the interface: the marker of an encrypted conversation, the warning
// when a member's device presents new keys (with Verify and Accept new keys), the notice when a
// member adds or removes a device, what a message that cannot be decrypted says, an encrypted file
// decrypted in the browser (an image inline from a blob: URL, anything else saved on demand), and
// the alert when this browser's own device was removed from another one.
import { useEffect, useState } from 'preact/hooks';
import { decryptReason, formatBytes, type IdentityWarning, type Message } from '../core/index.js';
import { attempt, showAlert } from './alerts.js';
import { chat } from './client.js';
import { devicesDialogOpen } from './devices-state.js';
import { timeOf } from './format.js';
import { LockIcon } from './icons.js';
import type { MessageActions } from './message.js';

/** This browser's device was removed (from another browser) and replaced: said once, until dismissed. */
chat.encryption.onDeviceReplaced(({ replacement }) =>
  showAlert(
    replacement
      ? 'This browser’s encryption keys were removed from your account on another device. It has made new ones: messages sent from now on can be read here, and your contacts see a new device.'
      : 'This browser’s encryption keys were removed from your account on another device, and it could not make new ones. Encrypted conversations cannot be read or written here until you log in again.',
  ),
);

export function EncryptedBadge() {
  return (
    <span class="e2ee-badge" title="Messages and files here are encrypted in the members’ browsers: the server cannot read them.">
      <LockIcon />
      End-to-end encrypted
    </span>
  );
}

/** Devices of this room's members whose keys changed: they get no keys until someone here accepts them. */
export function IdentityWarnings(props: { roomId: number; onVerify: (user: number) => void }) {
  const members = chat.store.membersOf(props.roomId).value ?? [];
  const inRoom = new Map(members.map((m) => [m.user, m.username]));
  const warnings = chat.encryption.warnings.value.filter((w) => inRoom.has(w.user));
  if (!warnings.length) return null;
  const accept = (w: IdentityWarning) => attempt(() => chat.encryption.acceptIdentity(w));
  return (
    <div class="identity-warnings">
      {warnings.map((w) => {
        const name = inRoom.get(w.user)!;
        return (
          <div role="alert" class="identity-warning" key={`${w.user}:${w.device_id}`}>
            <p>
              <strong>{name}’s security keys changed</strong> (device {w.device_id}). They may have reinstalled their browser, or someone may be trying to read
              this conversation. Until you accept the new keys, that device gets no keys to new messages. Compare safety numbers with {name} first.
            </p>
            <div class="identity-actions">
              <button type="button" onClick={() => props.onVerify(w.user)}>
                Verify {name}
              </button>
              <button type="button" class="danger" onClick={() => void accept(w)}>
                Accept new keys
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}

/**
 * Devices added and removed by this room's members (yours too, from your other browsers), one
 * line each until dismissed: a new device reads what is sent from now on, so it is worth a look
 * (Verify for a contact's, Your devices for yours). A polite live region: announced, never in the way.
 */
export function DeviceNotices(props: { roomId: number; onVerify: (user: number) => void }) {
  const notices = chat.encryption.noticesOf(props.roomId);
  const me = chat.store.me.value;
  return (
    <div class="device-notices" role="status">
      {notices.map((n) => {
        const mine = n.user === me;
        const name = mine ? 'You' : (chat.username(n.user) ?? 'Someone');
        const text = n.kind === 'added' ? `${name} added a new device` : `${name} removed a device`;
        return (
          <p class="device-notice" key={n.id}>
            <LockIcon />
            <span class="device-notice-text">
              {text}
              {mine && n.kind === 'added' ? ' (another browser of yours)' : ''}
              <span class="hint"> · {timeOf(n.at)}</span>
            </span>
            {n.kind === 'added' &&
              (mine ? (
                <button type="button" class="link-button" onClick={() => (devicesDialogOpen.value = true)}>
                  Review your devices
                </button>
              ) : (
                <button type="button" class="link-button" onClick={() => props.onVerify(n.user)}>
                  Verify {name}
                </button>
              ))}
            <button type="button" class="icon-button" aria-label={`Dismiss: ${text}`} onClick={() => chat.encryption.dismissNotice(n.id)}>
              ×
            </button>
          </p>
        );
      })}
    </div>
  );
}

/** The body of a message that could not be decrypted, or a note that one was not encrypted at all. */
export function Undecryptable(props: { m: Message }) {
  return (
    <span class="undecryptable">
      <em>Unable to decrypt</em>
      <span class="hint"> {decryptReason(props.m.e2ee?.reason)}</span>
    </span>
  );
}

/** Decrypted files of this session, by attachment id: one download each, however often they are shown. */
const decrypted = new Map<number, Promise<string>>();

function fileUrl(m: Message): Promise<string> {
  const id = m.attachment!.id;
  let url = decrypted.get(id);
  if (!url) {
    url = chat.encryptedFile(m).then((blob) => URL.createObjectURL(blob));
    url.catch(() => decrypted.delete(id));
    decrypted.set(id, url);
  }
  return url;
}

/** Decrypted files (blob: URLs) are let go with the session that made them. */
chat.session.onEnded(() => {
  for (const url of decrypted.values()) void url.then((u) => URL.revokeObjectURL(u), () => undefined);
  decrypted.clear();
});

/** Images show once decrypted (if not too large); other files are decrypted when asked for. */
const INLINE_MAX_BYTES = 20 * 1024 * 1024;

export function EncryptedAttachment(props: { m: Message; actions: MessageActions; tab: number }) {
  const info = props.m.e2ee!.file!;
  const image = /^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(info.mime) && info.size <= INLINE_MAX_BYTES;
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!image) return;
    let live = true;
    fileUrl(props.m).then(
      (u) => live && setUrl(u),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [props.m.attachment?.id]);
  if (failed) return <p class="hint">The file {info.name} could not be downloaded or decrypted.</p>;
  if (image) {
    return (
      <button type="button" tabIndex={props.tab} class="thumb" aria-label={`Open image ${info.name} (${formatBytes(info.size)})`} disabled={!url} onClick={() => url && props.actions.openImage(url, info.name)}>
        {url ? <img src={url} alt={info.name} /> : <span class="thumb-placeholder">Decrypting image…</span>}
      </button>
    );
  }
  const save = () =>
    attempt(async () => {
      const a = document.createElement('a');
      a.href = await fileUrl(props.m);
      a.download = info.name;
      a.click();
    });
  return (
    <p class="file">
      <span aria-hidden="true">📎 </span>
      <button type="button" class="link-button" tabIndex={props.tab} onClick={() => void save()}>
        {info.name}
      </button>{' '}
      <span class="file-size">({formatBytes(info.size)})</span>
    </p>
  );
}

/** What a message's file is called: an encrypted file's own name (inside the message), else the server's. */
export function attachmentName(m: Message): string | null {
  return m.e2ee?.file?.name ?? m.attachment?.file_name ?? null;
}
