// Writing a message: Enter sends, Shift+Enter starts a new line, Up (in an empty box) edits
// your last message, Esc cancels a reply or an edit. Files are picked, dropped or pasted, and
// upload with a progress bar. Each conversation keeps its draft, across switching and reloads.
import type { Signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, formatBytes, type Message } from '../core/index.js';
import { attempt, showError } from './alerts.js';
import { chat } from './client.js';
import { PaperclipIcon } from './icons.js';

export interface Upload {
  id: number;
  name: string;
  progress: number;
}

let uploadIds = 0;

/** Sends files one after another, each with its progress in `uploads`. */
export async function sendFiles(roomId: number, files: File[], uploads: Signal<Upload[]>, replyTo: number | null = null): Promise<void> {
  for (const file of files) {
    const id = ++uploadIds;
    uploads.value = [...uploads.value, { id, name: file.name || 'file', progress: 0 }];
    try {
      await chat.sendFile(roomId, file, {
        replyTo,
        onProgress: (p) => (uploads.value = uploads.value.map((u) => (u.id === id ? { ...u, progress: p } : u))),
      });
    } catch (err) {
      showError(err);
    } finally {
      uploads.value = uploads.value.filter((u) => u.id !== id);
    }
  }
}

export function uploadLimitText(): string {
  const limit = chat.config.value?.limits.upload_max_bytes;
  return limit ? `Files up to ${formatBytes(limit)} each.` : '';
}

export function Composer(props: {
  roomId: number;
  placeholder: string;
  replyTo: Signal<Message | null>;
  editing: Signal<Message | null>;
  uploads: Signal<Upload[]>;
  onSent: () => void;
}) {
  const { roomId, replyTo, editing, uploads } = props;
  const [text, setText] = useState(() => chat.draft(roomId));
  const box = useRef<HTMLTextAreaElement>(null);
  const savedDraft = useRef<string | null>(null);

  useEffect(() => {
    box.current?.focus();
  }, [roomId]);

  // Entering an edit puts the message in the box (keeping the draft aside); leaving it restores the draft.
  useEffect(() => {
    const m = editing.value;
    if (m) {
      if (savedDraft.current === null) savedDraft.current = text;
      setText(m.content);
      box.current?.focus();
    } else if (savedDraft.current !== null) {
      setText(savedDraft.current);
      savedDraft.current = null;
    }
  }, [editing.value]);

  useEffect(() => {
    if (replyTo.value) box.current?.focus();
  }, [replyTo.value]);

  // Grow with the text, up to a limit (CSS max-height).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);

  const update = (value: string) => {
    setText(value);
    if (!editing.value) {
      chat.setDraft(roomId, value);
      if (value) chat.typing(roomId);
    }
  };

  const submit = async () => {
    const content = text.trim() ? text : '';
    if (!content) return;
    const max = chat.config.value?.limits.message_max_bytes;
    if (max && new TextEncoder().encode(content).length > max) {
      showError(new ApiError(413, `That message is too long: at most ${formatBytes(max)}.`));
      return;
    }
    const target = editing.value;
    if (target) {
      if (content !== target.content) {
        const ok = await attempt(() => chat.edit(target.id, content));
        if (ok === undefined) return;
      }
      editing.value = null;
      return;
    }
    chat.send(roomId, content, replyTo.value?.id ?? null);
    replyTo.value = null;
    setText('');
    chat.setDraft(roomId, '');
    props.onSent();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape' && (editing.value || replyTo.value)) {
      e.preventDefault();
      e.stopPropagation();
      editing.value = null;
      replyTo.value = null;
    } else if (e.key === 'ArrowUp' && !text && !editing.value) {
      const me = chat.store.me.value;
      const mine = [...chat.store.timeline(roomId).messages.value].reverse().find((m) => m.sender === me && !m.is_deleted);
      if (mine) {
        e.preventDefault();
        editing.value = mine;
      }
    }
  };

  const onPaste = (e: ClipboardEvent) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!files.length) return;
    e.preventDefault();
    void sendFiles(roomId, files, uploads, replyTo.value?.id ?? null);
  };

  const limit = uploadLimitText();
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {editing.value && (
        <div class="composer-context">
          <span>Editing your message: Enter saves, Esc cancels</span>
          <button type="button" class="link-button" onClick={() => (editing.value = null)}>
            Cancel edit
          </button>
        </div>
      )}
      {replyTo.value && !editing.value && (
        <div class="composer-context">
          <span>
            Replying to <strong>{chat.username(replyTo.value.sender) ?? replyTo.value.sender_full_name}</strong>: {replyTo.value.content.slice(0, 80)}
          </span>
          <button type="button" class="link-button" onClick={() => (replyTo.value = null)}>
            Cancel reply
          </button>
        </div>
      )}
      {uploads.value.map((u) => (
        <div class="upload" key={u.id}>
          <span>Uploading {u.name}</span>
          <progress aria-label={`Uploading ${u.name}`} max={1} value={u.progress} />
        </div>
      ))}
      <div class="composer-row">
        <label class="attach" title={`Attach file${limit ? ` (${limit})` : ''}`}>
          <PaperclipIcon />
          <input
            type="file"
            class="visually-hidden"
            aria-label="Attach file"
            aria-describedby={`attach-limit-${roomId}`}
            multiple
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              const files = [...(input.files ?? [])];
              input.value = '';
              void sendFiles(roomId, files, uploads, replyTo.value?.id ?? null);
            }}
          />
        </label>
        <span id={`attach-limit-${roomId}`} class="sr-only">
          {limit}
        </span>
        <textarea ref={box} aria-label="Message" rows={1} placeholder={props.placeholder} value={text} onInput={(e) => update((e.target as HTMLTextAreaElement).value)} onKeyDown={onKeyDown} onPaste={onPaste} />
        <button type="submit" class="primary">
          Send
        </button>
      </div>
    </form>
  );
}
