import type { Static } from 'typebox';
import type { RoomInviteRow } from '../../db/schema.js';
import type { Invite } from './invites.schemas.js';

export type InviteView = Static<typeof Invite>;

export function inviteView(i: RoomInviteRow): InviteView {
  return {
    code: i.code,
    chat_room: i.chat_room_id,
    created_by: i.created_by,
    created_at: i.created_at,
    expires_at: i.expires_at,
    max_uses: i.max_uses,
    uses: i.uses,
  };
}
