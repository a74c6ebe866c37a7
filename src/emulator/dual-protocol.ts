import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer, type ListenOptions, type Server, type Socket } from 'node:net';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
export type RequestHandler = (request: AnyRequest, response: AnyResponse) => void;

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

export interface DualProtocolServer {
  server: Server;
  /** Resolves once listening; rejects with the listen error (a port in use) instead of throwing it uncaught. */
  listen(options: ListenOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * One port for both protocols. The Bedrock SDK speaks cleartext HTTP/2 with prior knowledge by
 * default; curl and `NodeHttpHandler` speak HTTP/1.1. The first bytes tell them apart: an
 * HTTP/2 client opens with the `PRI * HTTP/2.0` preface.
 */
export function createDualProtocolServer(handler: RequestHandler): DualProtocolServer {
  const http1 = createHttp1Server({ keepAliveTimeout: 65_000 }, handler);
  const http2 = createHttp2Server({ settings: { maxConcurrentStreams: 100_000 } }, handler);
  const sockets = new Set<Socket>();

  const server = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const sniff = (chunk: Buffer) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const probe = head.subarray(0, Math.min(head.length, HTTP2_PREFACE.length));
      const mayBeHttp2 = probe.equals(HTTP2_PREFACE.subarray(0, probe.length));
      if (mayBeHttp2 && head.length < HTTP2_PREFACE.length) return;
      socket.removeListener('data', sniff);
      socket.pause();
      socket.unshift(head);
      if (mayBeHttp2) {
        // The HTTP/2 session reads the unshifted bytes itself, then takes over the socket's handle.
        http2.emit('connection', socket);
      } else {
        http1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', sniff);
  });

  return {
    server,
    listen: (options) => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options, () => {
        server.removeListener('error', reject);
        resolve();
      });
    }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      http1.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    }),
  };
}
