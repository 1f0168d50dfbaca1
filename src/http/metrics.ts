// Prometheus metrics: request counts and latencies by route, plus the process's own. Served at
// /metrics to a scraper holding METRICS_TOKEN (Authorization: Bearer); without a token, not at all.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { unauthorized } from '../errors.js';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function registerMetrics(app: FastifyInstance, token: string | null): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: reply.statusCode });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  if (token === null) return registry;
  const expected = crypto.createHash('sha256').update(`Bearer ${token}`).digest();
  app.get('/metrics', { schema: { hide: true }, config: { auth: false } }, async (request, reply) => {
    const given = crypto.createHash('sha256').update(request.headers.authorization ?? '').digest();
    if (!crypto.timingSafeEqual(given, expected)) throw unauthorized();
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}
