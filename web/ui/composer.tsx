// Writing a message: Enter sends, Shift+Enter starts a new line, Up (in an empty box) edits
// your last message, Esc cancels a reply or an edit. `@` and letters offer the room's members
// (arrows and Enter or Tab pick one, Esc closes the list); the picked are sent as mentions.
// Files are picked, dropped or pasted, and upload with a progress bar. Each conversation (and
// thread) keeps its draft, across switching and reloads.
import type { Signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, formatBytes, mentionAt, mentionPieces, type Member, type Message } from '../core/index.js';
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
export async function sendFiles(roomId: number, files: File[], uploads: Signal<Upload[]>, replyTo: number | null = null, thread: number | null = null): Promise<void> {
  for (const file of files) {
    const id = ++uploadIds;
    uploads.value = [...uploads.value, { id, name: file.name || 'file', progress: 0 }];
    try {
      await chat.sendFile(roomId, file, {
        replyTo,
        thread,
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

const MAX_OPTIONS = 8;

/** The room's members (not you) whose username starts with `query`, then those containing it. */
function candidates(roomId: number, query: string): Member[] {
  const q = query.toLowerCase();
  const me = chat.store.me.value;
  const all = (chat.store.membersOf(roomId).value ?? []).filter((m) => m.user !== me);
  const starts = all.filter((m) => m.username.toLowerCase().startsWith(q));
  const inside = q ? all.filter((m) => !m.username.toLowerCase().startsWith(q) && m.username.toLowerCase().includes(q)) : [];
  return [...starts, ...inside].slice(0, MAX_OPTIONS);
}

let composers = 0;

export function Composer(props: {
  roomId: number;
  placeholder: string;
  replyTo: Signal<Message | null>;
  editing: Signal<Message | null>;
  uploads: Signal<Upload[]>;
  onSent: () => void;
  /** A thread's composer: the root's id (replies go there). */
  thread?: number;
}) {
  const { roomId, replyTo, editing, uploads } = props;
  const thread = props.thread ?? null;
  const draftKey = thread ? `thread:${thread}` : roomId;
  const [text, setText] = useState(() => chat.draft(draftKey));
  const box = useRef<HTMLTextAreaElement>(null);
  const savedDraft = useRef<string | null>(null);
  const uid = useRef(`composer-${++composers}`).current;
  // The `@…` being typed, the members it may mean, the one chosen; `closedAt`: where Esc closed the list.
  const [at, setAt] = useState<{ start: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const [closedAt, setClosedAt] = useState<number | null>(null);
  // Members picked from the list (lowercased username → id), sent as mentions while their @name stays in the text.
  const picked = useRef(new Map<string, number>());
  const options = at && !editing.value && closedAt !== at.start ? candidates(roomId, at.query) : [];
  const open = options.length > 0;
  const chosen = Math.min(active, options.length - 1);

  useEffect(() => {
    box.current?.focus();
  }, [roomId, thread]);

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

  /** Where the caret is: the `@…` before it, if any. */
  const lookAround = () => {
    const el = box.current;
    if (!el) return;
    const next = el.selectionStart === el.selectionEnd ? mentionAt(el.value, el.selectionStart) : null;
    if (next?.start !== at?.start || next?.query !== at?.query) {
      setAt(next);
      setActive(0);
    }
    if (!next) setClosedAt(null);
  };

  const update = (value: string) => {
    setText(value);
    if (!editing.value) {
      chat.setDraft(draftKey, value);
      if (value) chat.typing(roomId);
    }
  };

  const pick = (member: Member) => {
    const el = box.current;
    if (!el || !at) return;
    const before = `${el.value.slice(0, at.start)}@${member.username} `;
    const next = before + el.value.slice(el.selectionStart).replace(/^ /, '');
    picked.current.set(member.username.toLowerCase(), member.user);
    el.value = next;
    el.setSelectionRange(before.length, before.length);
    update(next);
    setAt(null);
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
        const ok = await attempt(() => chat.edit(target.id, content, target));
        if (ok === undefined) return;
      }
      editing.value = null;
      return;
    }
    const mentions = [...new Set(mentionPieces(content, picked.current).flatMap((p) => (p.user === undefined ? [] : [p.user])))];
    chat.send(roomId, content, replyTo.value?.id ?? null, { thread, mentions });
    replyTo.value = null;
    picked.current.clear();
    setText('');
    setAt(null);
    chat.setDraft(draftKey, '');
    props.onSent();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (open && !e.isComposing && ['ArrowDown', 'ArrowUp', 'Enter', 'Tab', 'Escape'].includes(e.key) && !(e.key === 'Enter' && e.shiftKey)) {
      e.preventDefault();
      if (e.key === 'ArrowDown') setActive((chosen + 1) % options.length);
      else if (e.key === 'ArrowUp') setActive((chosen - 1 + options.length) % options.length);
      else if (e.key === 'Escape') {
        e.stopPropagation();
        setClosedAt(at!.start);
      } else pick(options[chosen]);
      return;
    }
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
      const list = thread ? chat.store.thread(thread, roomId) : chat.store.timeline(roomId);
      const mine = [...list.messages.value].reverse().find((m) => m.sender === me && !m.is_deleted);
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
    void sendFiles(roomId, files, uploads, replyTo.value?.id ?? null, thread);
  };

  const limit = uploadLimitText();
  const attachLabel = thread ? 'Attach file to thread' : 'Attach file';
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
        <label class="attach" title={`${attachLabel}${limit ? ` (${limit})` : ''}`}>
          <PaperclipIcon />
          <input
            type="file"
            class="visually-hidden"
            aria-label={attachLabel}
            aria-describedby={`${uid}-limit`}
            multiple
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              const files = [...(input.files ?? [])];
              input.value = '';
              void sendFiles(roomId, files, uploads, replyTo.value?.id ?? null, thread);
            }}
          />
        </label>
        <span id={`${uid}-limit`} class="sr-only">
          {limit}
        </span>
        {open && (
          <ul id={`${uid}-members`} role="listbox" aria-label="Mention a member" class="listbox mention-list">
            {options.map((m, i) => (
              <li
                key={m.user}
                id={`${uid}-member-${i}`}
                role="option"
                aria-selected={i === chosen}
                class={i === chosen ? 'option active' : 'option'}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(m)}
              >
                {m.username}
              </li>
            ))}
          </ul>
        )}
        <span class="sr-only" role="status">
          {open ? `${options.length} ${options.length === 1 ? 'member' : 'members'}: up and down arrows to choose, Enter to mention.` : ''}
        </span>
        <textarea
          ref={box}
          aria-label={thread ? 'Thread reply' : 'Message'}
          rows={1}
          placeholder={props.placeholder}
          value={text}
          aria-autocomplete="list"
          aria-controls={open ? `${uid}-members` : undefined}
          aria-activedescendant={open ? `${uid}-member-${chosen}` : undefined}
          onInput={(e) => {
            update((e.target as HTMLTextAreaElement).value);
            lookAround();
          }}
          onKeyDown={onKeyDown}
          onKeyUp={(e) => ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && lookAround()}
          onClick={lookAround}
          onBlur={() => setAt(null)}
          onPaste={onPaste}
        />
        <button type="submit" class="primary" aria-label={thread ? 'Send reply' : undefined}>
          Send
        </button>
      </div>
    </form>
  );
}
