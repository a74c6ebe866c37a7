import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';

export interface SocketGuardLimits {
  /** Open TCP connections to the calls port, whatever their state; kept below the process's descriptor limit. */
  maxConnections: number;
  /** Open TCP connections from one remote address. */
  maxConnectionsPerAddress: number;
  /** From TCP accept to a completed WebSocket upgrade. */
  handshakeTimeoutMs: number;
  /** From the upgrade to the `start` frame. */
  startTimeoutMs: number;
  /** A ping each interval; a socket that has not answered the previous one is a half-open peer, and is closed. 0 = off. */
  pingIntervalMs: number;
  /** How long one socket may hold an unfinished (fragmented) message. */
  messageAssemblyTimeoutMs: number;
  /** Bytes of unfinished messages all sockets of the node may hold together. */
  maxAssemblyBytes: number;
}

/** Descriptors kept for the runtime's own clients (Redis, DynamoDB, Bedrock, logs, the metrics port). */
const RESERVED_DESCRIPTORS = 1_024;

/** The soft open-files limit of this process, where the platform says (Linux); undefined elsewhere. */
function descriptorLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((row) => row.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}

/** How long a peer closed for a missed deadline gets to answer the close before its socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;
const WS_POLICY_VIOLATION = 1008;

/** Masked client control frame: 2 header bytes and a 4-byte mask, payload ≤ 125 bytes. */
const CONTROL_FRAME_OVERHEAD = 6;

/**
 * Keeps what unauthenticated or stalled peers can hold bounded: connection caps (global and per
 * address) checked at accept, a handshake deadline, a deadline for `start`, ping/pong keepalive,
 * and bounds in time and node-wide bytes on messages left unfinished (test/reliability/connection-bounds.test.ts).
 */
export class SocketGuard {
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  /** Per upgraded socket: bytesRead at the end of its last whole message, and since when it holds an unfinished one. */
  private readonly assembling = new Map<WebSocket, { socket: Socket; mark: number; since: number | undefined }>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private reapedCount = 0;
  private readonly maxConnections: number;
  private readonly handshakeTimers = new WeakMap<Socket, NodeJS.Timeout>();

  constructor(private readonly limits: SocketGuardLimits, private readonly log: Logger) {
    const fdLimit = descriptorLimit();
    this.maxConnections = fdLimit === undefined ? limits.maxConnections : Math.min(limits.maxConnections, Math.max(1, fdLimit - RESERVED_DESCRIPTORS));
    if (this.maxConnections < limits.maxConnections) {
      log.warn({ event: 'telephony.connections_capped', configured: limits.maxConnections, cap: this.maxConnections, openFilesLimit: fdLimit },
        `server.maxConnections lowered to the open-files limit minus ${RESERVED_DESCRIPTORS} descriptors kept for the runtime's own clients`);
    }
    const sweepMs = Math.max(50, Math.min(limits.messageAssemblyTimeoutMs, 1_000) / 2);
    this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
    this.sweepTimer.unref();
  }

  /** Sockets refused at a cap or closed by a timeout, keepalive or assembly bound since start. */
  reaped(): number {
    return this.reapedCount;
  }

  /** Called on every accepted TCP connection: refuses it over a cap, else arms the handshake deadline. */
  accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.open >= this.maxConnections || fromAddress >= this.limits.maxConnectionsPerAddress) {
      // Debug, not warn: a flood must not turn into as many log lines; reaped() counts it.
      this.log.debug({ event: 'telephony.connection_refused', reason: this.open >= this.maxConnections ? 'max_connections' : 'max_per_address', open: this.open });
      this.reapedCount += 1;
      socket.destroy();
      return;
    }
    this.open += 1;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.open -= 1;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
    this.armHandshake(socket);
    socket.once('close', () => clearTimeout(this.handshakeTimers.get(socket)));
  }

  /**
   * An HTTP request arrived: no deadline while it is answered (a webhook may wait on Redis, an
   * event stream lasts as long as its call). After the response the connection has the handshake
   * deadline again for its next request or upgrade, so a keep-alive connection (Twilio reuses them
   * for webhooks) is not answered `408` in the middle of a later request just for being older
   * than the deadline; Node's `keepAliveTimeout` usually closes an idle one first.
   */
  requested(socket: Socket, response: ServerResponse): void {
    clearTimeout(this.handshakeTimers.get(socket));
    response.once('finish', () => {
      if (!socket.destroyed) this.armHandshake(socket);
    });
  }

  /** Called once the upgrade is done: the deadline for `start`, keepalive and assembly bounds take over. */
  upgraded(socket: Socket, ws: WebSocket, awaitingStart: () => boolean): void {
    clearTimeout(this.handshakeTimers.get(socket));
    const start = setTimeout(() => {
      if (awaitingStart()) this.timeOutStart(socket, ws);
    }, this.limits.startTimeoutMs);
    let answered = true;
    const ping = this.limits.pingIntervalMs > 0
      ? setInterval(() => {
        if (!answered) return this.reap(socket, 'keepalive_timeout', ws);
        answered = false;
        ws.ping();
      }, this.limits.pingIntervalMs)
      : undefined;
    const entry: { socket: Socket; mark: number; since: number | undefined } = { socket, mark: socket.bytesRead, since: undefined };
    this.assembling.set(ws, entry);
    // ws parses synchronously in its own 'data' listener, so at 'message' bytesRead covers that message.
    ws.on('message', () => {
      entry.mark = socket.bytesRead;
      entry.since = undefined;
    });
    const control = (data: Buffer) => {
      entry.mark += CONTROL_FRAME_OVERHEAD + data.length;
    };
    ws.on('ping', control);
    ws.on('pong', (data: Buffer) => {
      answered = true;
      control(data);
    });
    ws.once('close', () => {
      clearTimeout(start);
      clearInterval(ping);
      this.assembling.delete(ws);
    });
    socket.on('data', () => this.checkAssembly(ws));
  }

  close(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private unfinished(entry: { socket: Socket; mark: number }): number {
    return Math.max(0, entry.socket.bytesRead - entry.mark);
  }

  /** A socket whose unfinished message takes the node past its byte budget is the one closed. */
  private checkAssembly(ws: WebSocket): void {
    const entry = this.assembling.get(ws);
    if (!entry) return;
    if (this.unfinished(entry) === 0) {
      entry.since = undefined;
      return;
    }
    entry.since ??= Date.now();
    let total = 0;
    for (const other of this.assembling.values()) total += this.unfinished(other);
    if (total > this.limits.maxAssemblyBytes) this.reap(entry.socket, 'assembly_bytes', ws);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [ws, entry] of this.assembling) {
      if (entry.since !== undefined && now - entry.since > this.limits.messageAssemblyTimeoutMs) this.reap(entry.socket, 'assembly_timeout', ws);
    }
  }

  private armHandshake(socket: Socket): void {
    this.handshakeTimers.set(socket, setTimeout(() => this.timeOutHandshake(socket), this.limits.handshakeTimeoutMs));
  }

  /** A peer that never finished its upgrade gets a 408 it can read, then the socket is closed. */
  private timeOutHandshake(socket: Socket): void {
    if (socket.destroyed) return;
    this.counted('handshake_timeout');
    socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** An authenticated socket that never sent `start` is closed with 1008 and a reason a client can log. */
  private timeOutStart(socket: Socket, ws: WebSocket): void {
    if (socket.destroyed) return;
    this.counted('start_timeout');
    this.assembling.delete(ws);
    ws.close(WS_POLICY_VIOLATION, 'start timeout: no "start" frame within server.startTimeoutMs');
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private counted(reason: string): void {
    this.reapedCount += 1;
    this.log.info({ event: 'telephony.connection_reaped', reason });
  }

  private reap(socket: Socket, reason: string, ws?: WebSocket): void {
    if (socket.destroyed) return;
    this.counted(reason);
    if (ws) this.assembling.delete(ws);
    // terminate, not close: a peer that stopped answering will not finish a closing handshake either.
    if (ws) ws.terminate();
    else socket.destroy();
  }
}
