import type { Static } from 'typebox';
import type { ReactionRow } from '../../db/schema.js';
import type { Reaction, ReactionSummary, ReactionTypeName } from './reactions.schemas.js';

export type ReactionView = Static<typeof Reaction>;
export type ReactionSummaryView = Static<typeof ReactionSummary>;

export function reactionView(r: ReactionRow): ReactionView {
  return {
    id: r.id,
    message: r.message_id,
    user: r.user_id,
    reaction_type: r.reaction_type as ReactionTypeName,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export function reactionSummary(r: Pick<ReactionRow, 'id' | 'user_id' | 'reaction_type'>): ReactionSummaryView {
  return { id: r.id, user: r.user_id, reaction_type: r.reaction_type as ReactionTypeName };
}
