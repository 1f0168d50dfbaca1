import { displayName } from '../../core/index.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { navigate, roomHref } from '../router.js';

/** Ctrl/Cmd+K: jump to a conversation by typing part of its name. */
export function SwitcherDialog(props: { onClose: () => void }) {
  const search = (text: string) => {
    const q = text.toLowerCase();
    return chat.store.conversationList.value
      .filter((m) => displayName(m).toLowerCase().includes(q))
      .slice(0, 20)
      .map((m) => ({ key: m.chat_room, label: displayName(m), detail: m.unread_count ? `${m.unread_count} unread` : undefined, value: m.chat_room }));
  };
  return (
    <Dialog title="Switch conversation" onClose={props.onClose}>
      <Combobox
        label="Conversation"
        placeholder="Type a name"
        autoFocus
        search={search}
        onPick={(roomId) => {
          props.onClose();
          navigate(roomHref(roomId));
        }}
      />
    </Dialog>
  );
}
