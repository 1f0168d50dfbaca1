// A 413 the client actually receives. A body refused as too large is usually still arriving
// when the answer is ready. Closing the connection at once (what Node does after a response with
// `Connection: close`) leaves unread bytes in the socket, and the kernel answers them with a TCP
// RST, which can destroy the 413 in the client's buffers before it is read: browsers and fetch
// then report a network error (EPIPE, ECONNRESET) instead of the status. So, for every 413 sent
// before its request body has ended (one place, whichever route or parser refused it): say
// `Connection: close`, half-close after the answer (a FIN, as RFC 9112 §9.6 recommends), and go on
// reading and discarding the body until the client closes its side: at most
// max(DISCARD_MIN_BYTES, the route's limit) bytes (then reading stops) and DISCARD_TIMEOUT_MS (then
// the connection closes).
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Bytes of a refused body read and dropped after the 413, at least (a route's larger limit raises it). */
export const DISCARD_MIN_BYTES = 8 * 1024 * 1024;
/** How long a refused upload's connection stays open for the client to read the 413 and stop sending. */
export const DISCARD_TIMEOUT_MS = 10_000;
/** Multipart framing around the parts (boundaries, part headers), beyond the file and the text fields. */
export const MULTIPART_OVERHEAD_BYTES = 16 * 1024;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The largest body a route streams (uploads beyond BODY_LIMIT): bounds the discarding after its 413. */
    maxBodyBytes?: number;
  }
}

export function registerTooLargeHandling(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode !== 413) return;
    const req = request.raw;
    // Bodies already read in full need nothing; app.inject() has no socket to manage.
    if (req.complete || !(req.socket instanceof net.Socket)) return;
    reply.header('connection', 'close');
    const routeLimit = Math.max(request.routeOptions.config?.maxBodyBytes ?? 0, request.routeOptions.bodyLimit ?? 0);
    discardRest(req, Math.max(DISCARD_MIN_BYTES, routeLimit));
  });
}

function discardRest(req: IncomingMessage, maxBytes: number): void {
  const socket = req.socket;
  // Node calls destroySoon() once a `Connection: close` answer is written; on this socket only, it
  // becomes a half-close: the FIN follows the answer and reading goes on. The socket then closes
  // by itself when the client closes its side (both directions ended), or at the time bound.
  socket.destroySoon = function lingeringClose(this: net.Socket) {
    // Nothing left unread (the body ended meanwhile): Node's own close is safe.
    if (req.complete) return net.Socket.prototype.destroySoon.call(this);
    if (this.writable) this.end();
  };
  const timer = setTimeout(() => socket.destroy(), DISCARD_TIMEOUT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= maxBytes) return;
    // Enough dropped: stop reading. The client's sends then stall, which lets a client that writes
    // its whole body before looking at the answer (Node's fetch does) read the 413 and give up;
    // closing now would reset the connection under it. The time bound closes the socket.
    req.removeListener('data', onData);
    req.pause();
  };
  // Whoever was reading (a body parser, the multipart parser) has given up: detach it and drop the rest.
  req.unpipe();
  req.on('error', () => {});
  req.on('data', onData);
  req.on('end', () => {
    // All of it read: nothing left for an RST, so close now if the answer is out and the client has not.
    if (socket.writableEnded) socket.destroy();
  });
  req.resume();
}

/**
 * An onRequest hook for multipart uploads: 413 at once, before anything is read or stored, when
 * Content-Length already says the body is over `maxBytes` (the file limit plus its form's allowance).
 */
export function refuseDeclaredOver(maxBytes: number, tooLarge: () => Error) {
  return async (request: FastifyRequest) => {
    if (!/^multipart\//i.test(request.headers['content-type'] ?? '')) return;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  };
}

/** Reads a stream into memory, throwing `tooLarge()` as soon as it passes `maxBytes` (the rest is not read). */
export async function readAtMost(stream: Readable, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
