// What a client needs to know before it sends anything: the server's limits and the allowed values.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { FILE_TYPES, FileType } from '../attachments/attachments.schemas.js';
import { REACTION_TYPES, ReactionType } from '../reactions/reactions.schemas.js';

const ClientConfig = Type.Object({
  limits: Type.Object({
    upload_max_bytes: Type.Integer({ description: 'Largest attachment (UPLOAD_MAX_BYTES); 413 beyond' }),
    message_max_bytes: Type.Integer({ description: 'Largest message `content` in UTF-8 bytes (MESSAGE_MAX_BYTES); 413 beyond' }),
    avatar_max_bytes: Type.Integer({ description: 'Largest profile picture (AVATAR_MAX_BYTES); 413 beyond' }),
    body_limit_bytes: Type.Integer({ description: 'Largest JSON or form body (BODY_LIMIT), data: URLs included; 413 beyond' }),
  }),
  reaction_types: Type.Array(ReactionType),
  file_types: Type.Array(FileType),
  access_token_ttl: Type.Integer({ description: 'Lifetime of an access token, seconds (ACCESS_TOKEN_TTL)' }),
});

export const clientConfigRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const c = ctx.config;
  const body = {
    limits: { upload_max_bytes: c.uploadMaxBytes, message_max_bytes: c.messageMaxBytes, avatar_max_bytes: c.avatarMaxBytes, body_limit_bytes: c.bodyLimitBytes },
    reaction_types: [...REACTION_TYPES],
    file_types: [...FILE_TYPES],
    access_token_ttl: c.accessTokenTtlSec,
  };
  app.get('/api/config/', {
    config: { auth: false },
    schema: {
      tags: ['config'],
      summary: "The server's limits and allowed values, so a client can check before it sends",
      description: 'Public. Fixed for the life of the process (it changes only with the configuration).',
      response: { 200: ClientConfig },
    },
  }, async () => body);
};
