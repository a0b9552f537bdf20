/**
 * The push receiver behind `run --listen`: the API calls `metadata.webhook_url` when a task
 * ends, and that call only tells the waiting shot to look now. A push is never trusted on its
 * own (anyone who can reach the port can send one): it wakes the shot for one GET, which the
 * API answers. Each shot gets its own unguessable token in the path, so a stranger's call
 * matches nothing; it is counted, never logged with its token.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { VideoRequest } from '../api/contract.js';
import { isLoopbackHost } from '../api/url.js';
import { UsageError } from '../errors.js';

/** A body larger than this is not read: a push needs a few hundred bytes. */
export const PUSH_BODY_LIMIT = 64 * 1024;

/** An idle, slow or silent connection is closed after this long. */
export const RECEIVER_TIMEOUT_MS = 5_000;

/** Open connections kept at most; past it the oldest idle one makes room for the newcomer. */
export const RECEIVER_MAX_SOCKETS = 256;

/** What the receiver saw: the run's memory under a flood is these numbers and no more. */
export interface PushCounts {
  /** Pushes for a shot still waiting: each woke it (coalesced into at most one look). */
  accepted: number;
  /** Pushes for a token this run gave out whose shot is no longer waiting (replays, late). */
  late: number;
  /** Requests naming no token of this run (forged, guessed or garbage). */
  unknown: number;
  /** Requests refused for their method or size. */
  refused: number;
}

/** One shot's end of the receiver: pushes for its token wake whoever is waiting. */
interface Slot {
  /** A push arrived that no look has answered yet. */
  pending: boolean;
  wake: (() => void) | undefined;
  open: boolean;
}

/**
 * The run's side of pushes, independent of HTTP so the wait is testable with fakes: tokens
 * per shot key, a pending flag per token and the wakers of waiting shots.
 */
export class PushBoard {
  readonly counts: PushCounts = { accepted: 0, late: 0, unknown: 0, refused: 0 };
  private readonly byToken = new Map<string, Slot>();
  private readonly byKey = new Map<string, { token: string; slot: Slot }>();

  /** `publicUrl` is where the API reaches the receiver; each shot's URL adds its token. */
  constructor(public publicUrl: string) {}

  /** The webhook URL for a shot submitted in this run: a fresh token, the key never in it. */
  urlFor(key: string): string {
    let entry = this.byKey.get(key);
    if (!entry) {
      const token = randomBytes(24).toString('base64url');
      const slot: Slot = { pending: false, wake: undefined, open: true };
      entry = { token, slot };
      this.byKey.set(key, entry);
      this.byToken.set(token, slot);
    }
    return `${this.publicUrl.replace(/\/+$/, '')}/${entry.token}`;
  }

  /** Whether a push is expected for this shot: it was submitted in this run with our URL. */
  expects(key: string): boolean {
    return this.byKey.get(key)?.slot.open === true;
  }

  /** Takes the pending push of a shot, if any: the caller looks now. */
  take(key: string): boolean {
    const slot = this.byKey.get(key)?.slot;
    if (!slot?.pending) return false;
    slot.pending = false;
    return true;
  }

  /** Calls `wake` on the next push for this shot; returns the unsubscribe. */
  onPush(key: string, wake: () => void): () => void {
    const slot = this.byKey.get(key)?.slot;
    if (!slot) return () => undefined;
    slot.wake = wake;
    return () => {
      if (slot.wake === wake) slot.wake = undefined;
    };
  }

  /** The shot stopped waiting: later pushes for it are counted as late and do nothing. */
  close(key: string): void {
    const slot = this.byKey.get(key)?.slot;
    if (!slot) return;
    slot.open = false;
    slot.pending = false;
    slot.wake = undefined;
  }

  /** A push for `token`; whether the token is one of this run's. */
  push(token: string): boolean {
    const slot = this.byToken.get(token);
    if (!slot) {
      this.counts.unknown++;
      return false;
    }
    if (!slot.open) {
      this.counts.late++;
      return true;
    }
    this.counts.accepted++;
    slot.pending = true;
    slot.wake?.();
    return true;
  }
}

/**
 * The request as submitted: with the run's webhook URL unless the shot's manifest set its
 * own. The journal key and Idempotency-Key come from the request without it, so the
 * receiver's address never decides whether a shot is new.
 */
export function withWebhook(
  request: VideoRequest,
  pushes: Pick<PushBoard, 'urlFor'> | undefined,
  key: string,
): VideoRequest {
  if (!pushes || request.metadata?.webhook_url !== undefined) return request;
  return { ...request, metadata: { ...request.metadata, webhook_url: pushes.urlFor(key) } };
}

/** Where to listen, as the command line parsed it (`--listen HOST:PORT`, or `PORT` on loopback). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** A running receiver. */
export interface Receiver {
  board: PushBoard;
  /** The address it listens on, e.g. `127.0.0.1:8787`. */
  address: string;
  close(): Promise<void>;
}

/**
 * Refuses a receiver the API cannot call: without `publicUrl` the API is told the listening
 * address itself, which only an API on this machine can reach. Checked before anything is sent,
 * by a dry run as by the real one.
 */
export function refuseUnreachableReceiver(
  listen: ListenAddress,
  publicUrl: string | undefined,
  apiBase: string,
): void {
  if (publicUrl === undefined && !isLoopbackHost(new URL(apiBase).hostname)) {
    throw new UsageError(
      `the API at ${new URL(apiBase).host} cannot call a receiver at ${listen.host}:${listen.port}`,
      { kind: 'public_url_for_listen' },
    );
  }
}

/**
 * Starts the receiver on `listen`. Without `publicUrl` the API is told the listening address
 * itself: only an API on this machine (the simulator) can call that, so another is refused. Every request is answered as soon as its
 * body has been counted; nothing about it is kept beyond {@link PushCounts}.
 */
export async function startReceiver(
  listen: ListenAddress,
  publicUrl: string | undefined,
  apiBase: string,
): Promise<Receiver> {
  refuseUnreachableReceiver(listen, publicUrl, apiBase);
  const board = new PushBoard(publicUrl ?? '');
  const server = createServer(
    {
      // Node enforces the two timeouts below only on this sweep (every 30 s by default).
      connectionsCheckingInterval: 1_000,
      headersTimeout: RECEIVER_TIMEOUT_MS,
      requestTimeout: RECEIVER_TIMEOUT_MS,
      keepAliveTimeout: RECEIVER_TIMEOUT_MS,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => answer(board, req, res),
  );
  // A socket that sends nothing (or stops sending) is closed after this much silence.
  server.setTimeout(RECEIVER_TIMEOUT_MS);
  server.maxHeadersCount = 32;
  boundSockets(server, RECEIVER_MAX_SOCKETS);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UsageError(`cannot listen on ${listen.host}:${listen.port}: ${err.message}`, {
          kind: 'another_listen_port',
        }),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  // Only a port given as 0 is known now.
  board.publicUrl = publicUrl ?? `http://${shown}:${port}/hook`;
  return {
    board,
    address: `${shown}:${port}`,
    close: () => stop(server),
  };
}

/**
 * Keeps at most `limit` sockets open without refusing a newcomer for it: a flood of idle
 * sockets would otherwise fill the server and shut the API's pushes out until they time out.
 * The oldest socket with no request in progress is closed instead; only when every one is
 * busy (each bounded by the request timeout) is the newcomer closed.
 */
function boundSockets(server: Server, limit: number): void {
  const busy = new Map<Socket, boolean>();
  server.on('connection', (socket: Socket) => {
    busy.set(socket, false);
    socket.once('close', () => busy.delete(socket));
    if (busy.size <= limit) return;
    for (const [other, working] of busy) {
      if (working || other === socket) continue;
      busy.delete(other);
      return void other.destroy();
    }
    busy.delete(socket);
    socket.destroy();
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (!busy.has(socket)) return;
    busy.set(socket, true);
    res.once('close', () => {
      if (busy.has(socket)) busy.set(socket, false);
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Reads and counts the body (dropping the connection past the limit), then answers. */
function answer(board: PushBoard, req: IncomingMessage, res: ServerResponse): void {
  const close = () => {
    res.shouldKeepAlive = false;
  };
  if (req.method !== 'POST') {
    board.counts.refused++;
    close();
    res.writeHead(405, { allow: 'POST' }).end();
    req.resume();
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > PUSH_BODY_LIMIT) return drop(board, req, res);
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > PUSH_BODY_LIMIT) drop(board, req, res);
  });
  req.on('error', () => req.destroy());
  req.on('end', () => {
    if (res.headersSent || req.destroyed) return;
    const token = tokenOf(req.url ?? '');
    const known = token !== undefined && board.push(token);
    if (token === undefined) board.counts.unknown++;
    res.writeHead(known ? 204 : 404).end();
  });
}

/** Too large: 413 and the connection closed, the rest of the body never read. */
function drop(board: PushBoard, req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) return;
  board.counts.refused++;
  res.writeHead(413, { connection: 'close' }).end(() => req.destroy());
}

/** The token: the last path segment, or `?token=` (for proxies that rewrite paths). */
function tokenOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://receiver');
  } catch {
    return undefined;
  }
  const token = parsed.searchParams.get('token') ?? parsed.pathname.split('/').pop() ?? '';
  return /^[A-Za-z0-9_-]{16,64}$/.test(token) ? token : undefined;
}
