import { Type } from 'typebox';
import { Id } from '../../http/schemas.js';

export const REACTION_TYPES = ['like', 'love', 'laugh', 'wow', 'sad', 'angry'] as const;
export type ReactionTypeName = (typeof REACTION_TYPES)[number];

export const ReactionType = Type.Enum([...REACTION_TYPES], { description: 'like, love, laugh, wow, sad or angry' });

export const Reaction = Type.Object({
  id: Type.Integer(),
  message: Type.Integer(),
  user: Type.Integer({ description: 'Its author' }),
  reaction_type: ReactionType,
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** A reaction as listed in a message's `reactions`. */
export const ReactionSummary = Type.Object({
  id: Type.Integer(),
  user: Type.Integer(),
  reaction_type: ReactionType,
});

export const ReactionListQuery = Type.Object({ message: Id });
export const CreateReactionBody = Type.Object({ message: Id, reaction_type: ReactionType });
export const UpdateReactionBody = Type.Object({ reaction_type: ReactionType });
