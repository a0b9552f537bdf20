/**
 * `shotlist review`: a local web server (loopback only) for the review page. It serves the
 * page, the state, the clips the state names (nothing else of the output folder) and takes
 * pick writes, which are refused when the picks file changed since the page read it.
 * It never reads the API key: it sends nothing anywhere. Other local users and processes can
 * reach the port, so everything but a short notice needs the random token of the printed URL
 * (or the cookie the page sets from it), and writes need the page's own origin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { O_NOFOLLOW, insideRoot, regularFile } from '../safe-fs.js';
import type { PlannedShot } from '../plan/types.js';
import {
  StalePicksError,
  picksFileOf,
  readPicks,
  withPick,
  writePicks,
  type ShotPick,
} from '../pipeline/picks.js';
import { bodyFingerprint, pickKey } from '../manifest/identity.js';
import { reviewPlan, reviewState, type ReviewSource } from './state.js';
import { reviewPage } from './page.js';

export interface ReviewServer {
  /** The page's address, its session token in `?token=`: only this URL opens the page. */
  url: string;
  close: () => Promise<void>;
}

const MAX_BODY = 64 * 1024;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
const notFound = (res: ServerResponse) => send(res, 404, 'text/plain', 'not found\n');

async function readBody(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/** A clip the state names, streamed (one byte range when asked: players seek with them). */
async function sendClip(
  req: IncomingMessage,
  res: ServerResponse,
  outDir: string,
  rel: string,
): Promise<void> {
  const info = await regularFile(outDir, rel);
  if (!info) return notFound(res);
  const size = info.size;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  const partial = !!range && !!(range[1] || range[2]);
  if (range && partial) {
    start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return void res.end();
    }
  }
  // O_NOFOLLOW: a link put in place after the check is not followed either.
  const handle = await open(insideRoot(outDir, rel), constants.O_RDONLY | O_NOFOLLOW);
  res.writeHead(partial ? 206 : 200, {
    'content-type': 'video/mp4',
    'content-length': end - start + 1,
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
    ...(partial ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === 'HEAD') {
    await handle.close();
    return void res.end();
  }
  const stream = handle.createReadStream({ start, end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

interface PickWrite {
  revision?: unknown;
  shot?: unknown;
  variant?: unknown;
  take?: unknown;
  reroll?: unknown;
  note?: unknown;
}

/** The shot's entry after a write: what the write says, the rest as it was. */
function nextEntry(
  old: ShotPick | undefined,
  base: { shot: string; variant: string | null },
  picked: PlannedShot | undefined,
  w: PickWrite,
): ShotPick {
  const take = picked
    ? { take: picked.take, body: bodyFingerprint(picked) }
    : {
        ...(old?.take !== undefined ? { take: old.take } : {}),
        ...(old?.body !== undefined ? { body: old.body } : {}),
      };
  const reroll = typeof w.reroll === 'boolean' ? w.reroll : old?.reroll === true;
  const note = typeof w.note === 'string' ? w.note.slice(0, 2000) : (old?.note ?? '');
  return { ...base, ...take, ...(reroll ? { reroll: true } : {}), ...(note ? { note } : {}) };
}

/** A write from the page: one shot's entry, against the revision the page read. */
async function savePick(source: ReviewSource, body: unknown): Promise<{ revision: number }> {
  const w = body as PickWrite;
  if (typeof w.revision !== 'number' || typeof w.shot !== 'string') {
    throw new Error('a write needs the revision read and a shot');
  }
  const base = { shot: w.shot, variant: typeof w.variant === 'string' ? w.variant : null };
  const { plan, base: api } = await reviewPlan(source);
  const takes = plan.shots.filter((s) => s.id === base.shot && s.variant === base.variant);
  const picked = takes.find((s) => s.take === w.take);
  if (takes.length === 0 || (w.take !== undefined && !picked)) {
    throw new Error(`no take ${String(w.take)} of ${base.shot}`);
  }
  const file = picksFileOf(source.manifestFile, api);
  const current = await readPicks(file);
  const key = pickKey(base.shot, base.variant);
  const old = current.picks.find((p) => pickKey(p.shot, p.variant) === key);
  const entry = nextEntry(old, base, picked, w);
  return writePicks(file, withPick(current.picks, entry), w.revision);
}

/** Requests for another host name than ours (DNS rebinding) are refused. */
function hostAllowed(req: IncomingMessage, port: number): boolean {
  return [`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? '');
}

/** One write at a time: the revision check and the rename must not interleave with another. */
function serialised<T>(): (job: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (job) => {
    const next = last.then(job, job);
    last = next.catch(() => undefined);
    return next;
  };
}
const inTurn = serialised<{ revision: number }>();

/** What a request must carry: the session's token, on the port it was given for. */
interface Session {
  port: number;
  token: string;
}

/** The token's cookie, named by port: two review servers on one host keep their own. */
const cookieName = (port: number) => `shotlist-review-${port}`;

/** Constant-time comparison of a presented token with the session's. */
function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function cookieToken(req: IncomingMessage, port: number): string | undefined {
  const name = `${cookieName(port)}=`;
  const pair = (req.headers.cookie ?? '')
    .split(';')
    .map((p) => p.trim())
    .find((p) => p.startsWith(name));
  return pair?.slice(name.length);
}

const NO_TOKEN_PAGE = `<!doctype html><meta charset="utf-8"><title>shotlist review</title>
<p>Open the URL printed by <code>shotlist review</code> (it ends in <code>?token=…</code>).</p>
`;

/**
 * Whether the request carries the session's token, and whether it came in the query (the
 * printed URL: the answer then sets the cookie the page's own requests carry).
 */
function presented(req: IncomingMessage, url: URL, session: Session): 'query' | 'cookie' | false {
  const query = url.searchParams.get('token') ?? undefined;
  if (sameToken(query, session.token)) return 'query';
  return sameToken(cookieToken(req, session.port), session.token) ? 'cookie' : false;
}

async function handle(
  source: ReviewSource,
  session: Session,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!hostAllowed(req, session.port)) return send(res, 403, 'text/plain', 'forbidden host\n');
  const url = new URL(req.url ?? '/', 'http://review');
  const method = req.method ?? 'GET';
  const token = presented(req, url, session);
  if (!token) {
    return url.pathname === '/'
      ? send(res, 401, 'text/html; charset=utf-8', NO_TOKEN_PAGE)
      : send(res, 401, 'text/plain', 'open the URL printed by shotlist review\n');
  }
  if (token === 'query') {
    const cookie = `${cookieName(session.port)}=${session.token}; HttpOnly; SameSite=Strict; Path=/`;
    res.setHeader('set-cookie', cookie);
  }
  if (method === 'GET' && url.pathname === '/') {
    return send(res, 200, 'text/html; charset=utf-8', reviewPage());
  }
  if (method === 'GET' && url.pathname === '/api/state') {
    return json(res, 200, await reviewState(source));
  }
  if (method === 'POST' && url.pathname === '/api/pick') {
    // The page's own origin only: the token alone could come from a leaked URL.
    if (req.headers.origin !== `http://${req.headers.host}`) {
      return send(res, 403, 'text/plain', 'writes come from the review page only\n');
    }
    // JSON only: a form on another site cannot post it without a preflight.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return send(res, 415, 'text/plain', 'JSON only\n');
    }
    try {
      const body = await readBody(req);
      return json(res, 200, await inTurn(() => savePick(source, body)));
    } catch (err) {
      if (err instanceof StalePicksError)
        return json(res, 409, { error: err.message, fix: err.fix });
      return json(res, 400, { error: (err as Error).message });
    }
  }
  if ((method === 'GET' || method === 'HEAD') && url.pathname.startsWith('/files/')) {
    // Only clips the state lists: a path the page was not given is not there.
    const rel = decodeURIComponent(url.pathname.slice('/files/'.length));
    const state = await reviewState(source);
    const named =
      state.shots.some((s) => s.takes.some((t) => t.clip === rel)) ||
      state.previews.some((p) => p.file === rel);
    return named ? sendClip(req, res, source.outDir, rel) : notFound(res);
  }
  return notFound(res);
}

/** Starts the review server on 127.0.0.1 (`port` 0: a free one). */
export async function startReview(source: ReviewSource, port = 0): Promise<ReviewServer> {
  const session: Session = { port, token: randomBytes(24).toString('base64url') };
  const server: Server = createServer((req, res) => {
    handle(source, session, req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new UsageError(
              `cannot listen on 127.0.0.1:${port}: ${err.code === 'EACCES' ? 'not allowed' : 'the port is in use'}`,
              { kind: 'another_port' },
            )
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  session.port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${session.port}/?token=${session.token}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
