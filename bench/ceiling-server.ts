// The ceiling of our stack: bare Fastify that parses a JSON body and answers 201 with JSON.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/api/messages/', async (request, reply) => {
  const body = request.body as { chat_room?: number; content?: string };
  return reply.code(201).send({ id: 1, chat_room: body.chat_room ?? null, content: body.content ?? '', created_at: new Date().toISOString() });
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
