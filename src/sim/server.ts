import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ASSET_ROUTE, SimAssets } from './assets.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ShotlistError, UsageError } from '../errors.js';
import { checkRequest, type VideoRequest } from '../api/contract.js';
import { ClipStore, SHARED_CLIP_CACHE, clipSpec, type ClipSpec, type ClipStats } from './clips.js';
import { KEPT_WEBHOOK_LIMIT, keepBody } from './kept.js';
import { buildLedger, type Ledger } from './ledger.js';
import {
  FAULT_KINDS,
  resolveOptions,
  type FaultKind,
  type ResolvedOptions,
  type SimulatorOptions,
} from './options.js';
import { Accounts, accountOf } from './quota.js';
import { randomStreams, type Random } from './random.js';
import { ReferenceFetcher, type ReferenceImage } from './references.js';
import { CLIPS_FOLDER, SimState } from './state.js';
import { TaskBoard, billableSeconds, type SimTask } from './tasks.js';
import { isLoopbackUrl, postWebhook } from './webhook.js';

export type { Ledger, LedgerEntry } from './ledger.js';

/** Counters of what the simulator saw and did: the body of `GET /__sim/stats`. */
export interface SimulatorStats {
  /** Requests by route, e.g. `POST /v1/videos`, `GET /videos/:file`. */
  requests: Record<string, number>;
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>;
  file_requests_with_authorization: number;
  /** Webhook calls made and answered 2xx, made and failed, and dropped by `webhookLoss`. */
  webhooks: { delivered: number; failed: number; lost?: number };
  clips: ClipStats;
  /**
   * Requests with an accepted key, by account (`acct_` + a digest of the key, never the key):
   * `POST /v1/videos` and `GET /v1/videos/:id` each.
   */
  accounts: Record<string, Record<string, number>>;
  /** Looks at a task by a key other than the one that created it (an account pool's mix-up). */
  foreign_task_requests: number;
}

/** A running simulator. */
export interface Simulator {
  /** The API base, `http://127.0.0.1:PORT`. */
  url: string;
  /** The origin of the video files (another port, so another origin than the API). */
  fileUrl: string;
  /** Where clips are cached. */
  cacheDir: string;
  ledger(): Ledger;
  stats(): SimulatorStats;
  /** Stops both listeners, drops open connections, stops encodes and webhooks. */
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const RETRY_AFTER_SECONDS = 1;
const FILE_ROUTE = /^\/videos\/(task_[a-z0-9]+)\.mp4$/;
const TASK_ROUTE = /^\/v1\/videos\/([^/]+)$/;

interface ErrorShape {
  status: number;
  code: string;
  message: string;
  type?: string;
  param?: string | null;
  headers?: Record<string, string>;
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

function sendError(res: ServerResponse, e: ErrorShape): void {
  const error: Record<string, unknown> = {
    message: e.message,
    type: e.type ?? defaultType(e.status),
    code: e.code,
  };
  if (e.param !== undefined) error.param = e.param;
  sendJson(res, e.status, { error }, e.headers);
}

/** A connection reset (RST), not a polite close: what a client sees when a proxy dies. */
function resetSocket(req: IncomingMessage): void {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(
          new BodyError(413, 'request_too_large', `the request body is over ${MAX_BODY} bytes`),
        );
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** One `bytes=` range; anything else (several ranges, bad syntax) is ignored, as RFC 9110 allows. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (to !== '' && Number(to) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

class SimulatorServer {
  url = '';
  fileUrl = '';
  readonly cacheDir: string;
  private readonly assets: SimAssets;
  private readonly api: Server;
  private readonly files: Server;
  private readonly board: TaskBoard;
  private readonly clips: ClipStore;
  private readonly random: Record<'tasks' | 'ids' | 'faults' | 'ambiguity' | 'webhooks', Random>;
  private readonly requestCounts: Record<string, number> = {};
  private readonly accountCounts: Record<string, Record<string, number>> = {};
  private foreignTaskRequests = 0;
  private readonly faultCounts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<
    FaultKind,
    number
  >;
  private fileAuthCount = 0;
  private readonly webhookCounts: SimulatorStats['webhooks'] = { delivered: 0, failed: 0 };
  private readonly hookTasks = new Set<SimTask>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly sleepers = new Set<() => void>();
  private readonly closing = new AbortController();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private encodeWarned = false;
  private readonly apiKeyDigest: Buffer | undefined;
  private readonly references: ReferenceFetcher;
  /** The image each task's clip starts from (undefined: none); refetched after a restart. */
  private readonly images = new Map<string, ReferenceImage | undefined>();
  private readonly accounts: Accounts;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly state: SimState | undefined,
  ) {
    this.random = randomStreams(options.seed, ['tasks', 'ids', 'faults', 'ambiguity', 'webhooks']);
    this.board = new TaskBoard({
      latency: options.latency,
      failRate: options.failRate,
      maxConcurrent: options.maxConcurrent,
      random: this.random.tasks,
      idRandom: this.random.ids,
    });
    this.clips = new ClipStore({
      env: options.env,
      cacheDir: options.cacheDir ?? (state ? path.join(state.dir, CLIPS_FOLDER) : undefined),
      ...(state && !options.cacheDir ? { sharedDir: SHARED_CLIP_CACHE } : {}),
      onWarn: (message) => options.onLog({ level: 'warn', message }),
    });
    this.cacheDir = this.clips.dir;
    this.references = new ReferenceFetcher(path.join(this.clips.dir, 'refs'), this.closing.signal);
    this.assets = new SimAssets(state ? path.join(state.dir, 'assets') : undefined);
    this.apiKeyDigest = options.apiKey === undefined ? undefined : digest(options.apiKey);
    this.accounts = new Accounts(options.quotas, options.keyConcurrency);
    this.api = createServer((req, res) => this.guard(res, this.handleApi(req, res)));
    this.files = createServer((req, res) => this.guard(res, this.handleFile(req, res)));
    if (state) this.restore(state.tasks);
  }

  /** Takes back an earlier process's tasks: timelines go on, webhooks still due are sent. */
  private restore(tasks: readonly SimTask[]): void {
    this.board.restore(tasks);
    const now = this.now();
    for (const task of tasks) {
      const hook = task.body.metadata?.webhook_url;
      if (hook !== undefined && isLoopbackUrl(hook) && !TaskBoard.ended(task, now)) {
        this.hookTasks.add(task);
      }
    }
  }

  async listen(): Promise<void> {
    const listen = (server: Server, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    try {
      this.url = `http://127.0.0.1:${await listen(this.api, this.options.port)}`;
      this.fileUrl = `http://127.0.0.1:${await this.listenFiles(listen)}`;
    } catch (error) {
      this.api.close();
      this.files.close();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES') {
        throw new UsageError(
          `cannot listen on 127.0.0.1: ${(error as Error).message}`,
          'choose another port, or 0 for any free one',
        );
      }
      throw error;
    }
    this.clips.ensureEncoder().catch((error: unknown) => this.warnEncode(error));
    this.checkHooks();
  }

  /**
   * Serves files on the port asked for; else on the port an earlier process used, so the URLs
   * it gave out work again; else (that port is taken) on any free one.
   */
  private async listenFiles(listen: (server: Server, port: number) => Promise<number>) {
    const earlier = this.state?.filePort;
    if (this.options.filePort !== 0 || earlier === undefined) {
      const port = await listen(this.files, this.options.filePort);
      await this.state?.saveFilePort(port);
      return port;
    }
    let port: number;
    try {
      port = await listen(this.files, earlier);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
      port = await listen(this.files, 0);
      await this.state?.saveFilePort(port);
    }
    return port;
  }

  private now(): number {
    return this.options.clock();
  }

  private count(route: string): void {
    this.requestCounts[route] = (this.requestCounts[route] ?? 0) + 1;
  }

  private guard(res: ServerResponse, work: Promise<void>): void {
    work.catch((error: unknown) => {
      this.options.onLog({ level: 'warn', message: `request failed: ${(error as Error).message}` });
      if (!res.headersSent) {
        sendError(res, {
          status: 500,
          code: 'internal_error',
          message: 'the simulator failed: ' + (error as Error).message,
        });
      } else {
        res.destroy();
      }
    });
  }

  /** One uniform draw per request; the faults share [0, 1) so each happens at exactly its rate. */
  private drawFault(): FaultKind | undefined {
    const u = this.random.faults();
    let edge = 0;
    for (const kind of FAULT_KINDS) {
      edge += this.options.faults[kind];
      if (u < edge) return kind;
    }
    return undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /**
   * Applies the faults that do not depend on the request's content. Returns the fault still to
   * apply later (`500`/`reset` on a POST, `truncate` on a download), or 'handled'.
   */
  private async preFault(
    req: IncomingMessage,
    res: ServerResponse,
    fault: FaultKind | undefined,
    deferrable: readonly FaultKind[],
  ): Promise<FaultKind | 'handled' | undefined> {
    if (fault === undefined) return undefined;
    // A cut-short body only exists on a download; elsewhere that draw is simply no fault.
    if (fault === 'truncate' && !deferrable.includes(fault)) return undefined;
    this.faultCounts[fault]++;
    if (deferrable.includes(fault)) return fault;
    switch (fault) {
      case '429':
        req.resume();
        sendError(res, {
          status: 429,
          code: 'rate_limit_exceeded',
          message: `too many requests; retry after ${RETRY_AFTER_SECONDS} s`,
          headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
        });
        return 'handled';
      case '500':
        req.resume();
        sendError(res, { status: 500, code: 'internal_error', message: 'internal server error' });
        return 'handled';
      case '502':
        req.resume();
        sendError(res, {
          status: 502,
          code: 'bad_gateway',
          message: 'bad gateway: the upstream did not answer',
        });
        return 'handled';
      case 'reset':
        resetSocket(req);
        return 'handled';
      case 'slow':
        await this.sleep(this.options.slowSeconds * 1000);
        return this.closing.signal.aborted ? 'handled' : undefined;
      case 'truncate':
        return undefined;
    }
  }

  /** The key of an accepted request, or why it is refused. */
  private authorize(req: IncomingMessage): { key: string } | { error: ErrorShape } {
    const header = req.headers.authorization;
    if (header === undefined) {
      return {
        error: {
          status: 401,
          code: 'missing_api_key',
          message: 'no API key: send the header Authorization: Bearer YOUR_API_KEY',
        },
      };
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    const open = this.apiKeyDigest === undefined && !this.accounts.keyed;
    const ok =
      token !== undefined &&
      (open ||
        this.accounts.knows(token) ||
        (this.apiKeyDigest !== undefined && timingSafeEqual(digest(token), this.apiKeyDigest)));
    return ok
      ? { key: token }
      : { error: { status: 401, code: 'invalid_api_key', message: 'the API key is not valid' } };
  }

  /**
   * Refuses a request; a `500` or `reset` drawn for it wins over the refusal, so every fault
   * counted in the stats is a fault the client saw.
   */
  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    fault: '500' | 'reset' | undefined,
    error: ErrorShape,
  ): void {
    req.resume();
    if (fault === 'reset') return resetSocket(req);
    if (fault === '500') {
      return sendError(res, {
        status: 500,
        code: 'internal_error',
        message: 'internal server error',
      });
    }
    sendError(res, error);
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://sim').pathname;
    // Uploaded reference files: public like a CDN's, so no key is asked for (or sent).
    const asset = ASSET_ROUTE.exec(pathname);
    if (asset) {
      this.count(`${method} /assets/:key`);
      return this.assets.handle(req, res, asset[1]!);
    }

    if (pathname.startsWith('/__sim/')) {
      this.count(`${method} ${pathname}`);
      const view =
        pathname === '/__sim/ledger'
          ? () => this.ledger()
          : pathname === '/__sim/stats'
            ? () => this.stats()
            : undefined;
      if (!view)
        return sendError(res, { status: 404, code: 'not_found', message: `no route ${pathname}` });
      if (method !== 'GET') {
        return sendError(res, {
          status: 405,
          code: 'method_not_allowed',
          message: `${pathname} takes GET`,
          headers: { allow: 'GET' },
        });
      }
      return sendJson(res, 200, view());
    }

    const taskMatch = TASK_ROUTE.exec(pathname);
    const route =
      pathname === '/v1/videos' ? 'POST /v1/videos' : taskMatch ? 'GET /v1/videos/:id' : undefined;
    this.count(
      route === undefined
        ? `${method} (no route)`
        : method === route.split(' ')[0]
          ? route
          : `${method} ${route.split(' ')[1]}`,
    );
    const fault = await this.preFault(
      req,
      res,
      this.drawFault(),
      method === 'POST' && route === 'POST /v1/videos' ? ['500', 'reset'] : [],
    );
    if (fault === 'handled') return;

    if (route === undefined) {
      req.resume();
      return sendError(res, {
        status: 404,
        code: 'not_found',
        message: `no route for ${method} ${pathname}`,
      });
    }
    const allowed = route.split(' ')[0] ?? 'GET';
    if (method !== allowed) {
      req.resume();
      return sendError(res, {
        status: 405,
        code: 'method_not_allowed',
        message: `${pathname} takes ${allowed}, not ${method}`,
        headers: { allow: allowed },
      });
    }
    const deferred = fault === '500' || fault === 'reset' ? fault : undefined;
    const auth = this.authorize(req);
    if ('error' in auth) return this.refuse(req, res, deferred, auth.error);
    const account = accountOf(auth.key);
    const counts = (this.accountCounts[account] ??= {});
    counts[route] = (counts[route] ?? 0) + 1;
    if (method === 'GET') {
      const id = decodeURIComponent(taskMatch?.[1] ?? '');
      const owner = this.board.tasks.get(id)?.account;
      if (owner !== undefined && owner !== account) this.foreignTaskRequests++;
      return this.getTask(res, id);
    }
    return this.submit(req, res, deferred, account);
  }

  private async submit(
    req: IncomingMessage,
    res: ServerResponse,
    fault: '500' | 'reset' | undefined,
    account: string,
  ): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return this.refuse(req, res, fault, {
        status: 400,
        code: 'invalid_content_type',
        message: `Content-Type must be application/json, not ${type === '' ? 'missing' : JSON.stringify(type)}`,
      });
    }
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (error instanceof BodyError) {
        return this.refuse(req, res, fault, {
          status: error.status,
          code: error.code,
          message: error.message,
        });
      }
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      return this.refuse(req, res, fault, {
        status: 400,
        code: 'invalid_json',
        message: `the request body is not valid JSON: ${(error as Error).message}`,
      });
    }
    const errors = checkRequest(body).filter((p) => p.severity === 'error');
    const first = errors[0];
    if (first) {
      return this.refuse(req, res, fault, {
        status: 400,
        code: 'invalid_parameter',
        param: first.path.length > 0 ? first.path.join('.') : null,
        message: errors.map((p) => (p.fix ? `${p.message} (${p.fix})` : p.message)).join('; '),
      });
    }
    const request = body as VideoRequest;
    const limited = this.admit(account, request);
    if (limited) return this.refuse(req, res, fault, limited);
    const kept = keepBody(raw, request);
    const header = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);

    // A real gateway may have created the task before it failed: half the time, so does this.
    const created = fault === undefined || this.random.ambiguity() < 0.5;
    if (created) {
      // Fetched as the real service does, before the task exists: its outcome is known up front.
      const refs = await this.references.check(request);
      const task = this.board.submit(kept, this.now(), {
        idempotencyKey,
        account,
        ...(fault ? { fault } : {}),
      });
      if (!refs.ok) Object.assign(task, { outcome: 'failed', error: refs.error });
      else this.images.set(task.id, refs.image);
      // On disk before the client learns the id: a restarted simulator must know every id given out.
      await this.state?.append(task);
      if (task.outcome === 'completed') this.prepareClip(task);
      const hook = request.metadata?.webhook_url;
      if (hook !== undefined) this.watchHook(task, hook);
      this.checkHooks();
      if (fault === undefined) {
        return sendJson(res, 200, {
          id: task.id,
          object: 'video',
          model: request.model,
          status: 'queued',
          progress: 0,
          created_at: Math.floor(task.receivedAt / 1000),
        });
      }
    }
    if (fault === 'reset') return resetSocket(req);
    return sendError(res, {
      status: 500,
      code: 'internal_error',
      message: 'internal server error',
    });
  }

  /** The account's quota and cap for one more task of `request`: a refusal, or undefined. */
  private admit(account: string, request: VideoRequest): ErrorShape | undefined {
    const now = this.now();
    this.board.advance(now);
    const tasks = [...this.board.tasks.values()].map((t) => ({
      account: t.account,
      seconds: billableSeconds(t.body),
      open: !TaskBoard.ended(t, now),
    }));
    return this.accounts.admit(account, billableSeconds(request), tasks);
  }

  /** Calls `hook` back when the task ends, if it is a URL the simulator may call. */
  private watchHook(task: SimTask, hook: string): void {
    const why =
      task.body.metadata?.webhook_url !== hook
        ? `is longer than ${KEPT_WEBHOOK_LIMIT} characters`
        : isLoopbackUrl(hook)
          ? undefined
          : 'is not a loopback address';
    if (why === undefined) return void this.hookTasks.add(task);
    const shown = hook.length > 200 ? `${hook.slice(0, 200)}…` : hook;
    this.options.onLog({
      level: 'warn',
      message: `${task.id}: webhook_url ${shown} ${why}; it will not be called`,
    });
  }

  private getTask(res: ServerResponse, id: string): void {
    const task = this.board.tasks.get(id);
    if (!task)
      return sendError(res, { status: 404, code: 'not_found', message: `task ${id} not found` });
    const now = this.now();
    this.board.advance(now);
    this.checkHooks();
    const view = TaskBoard.view(task, now, (t) => this.videoUrl(t));
    if (view.status === 'completed') {
      const seconds = billableSeconds(task.body) + this.options.billExtraSeconds;
      Object.assign(view, { seconds, usage: { video_seconds: seconds } });
    }
    sendJson(res, 200, view);
  }

  private videoUrl(task: SimTask): string {
    return `${this.fileUrl}/videos/${task.id}.mp4`;
  }

  private prepareClip(task: SimTask): void {
    this.specOf(task)
      .then((spec) => this.clips.ensure(spec))
      .catch((error: unknown) => this.warnEncode(error));
  }

  /** The clip of a task: its body's, starting from its image when it has one. */
  private async specOf(task: SimTask): Promise<ClipSpec> {
    if (!this.images.has(task.id)) {
      this.images.set(task.id, await this.references.firstImage(task.body));
    }
    const image = this.images.get(task.id);
    const spec = clipSpec(task.body, this.board.variation(task));
    return image ? { ...spec, image } : spec;
  }

  private warnEncode(error: unknown): void {
    if (this.encodeWarned || this.closing.signal.aborted) return;
    this.encodeWarned = true;
    const fix = error instanceof ShotlistError && error.fix ? ` (${error.fix})` : '';
    this.options.onLog({
      level: 'warn',
      message: `clips cannot be made: ${(error as Error).message}${fix}`,
    });
  }

  private async handleFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://sim').pathname;
    const match = FILE_ROUTE.exec(pathname);
    this.count(match ? `${method} /videos/:file` : `${method} (no file route)`);
    if (req.headers.authorization !== undefined) this.fileAuthCount++;
    const fault = await this.preFault(
      req,
      res,
      this.drawFault(),
      method === 'GET' ? ['truncate'] : [],
    );
    if (fault === 'handled') return;
    req.resume();
    if (!match)
      return sendError(res, { status: 404, code: 'not_found', message: `no file at ${pathname}` });
    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(res, {
        status: 405,
        code: 'method_not_allowed',
        message: `files take GET or HEAD, not ${method}`,
        headers: { allow: 'GET, HEAD' },
      });
    }
    const task = this.board.tasks.get(match[1] ?? '');
    const now = this.now();
    this.board.advance(now);
    if (!task || !TaskBoard.ended(task, now) || task.outcome !== 'completed') {
      return sendError(res, { status: 404, code: 'not_found', message: `no file at ${pathname}` });
    }
    let file: string;
    try {
      file = await this.clips.ensure(await this.specOf(task));
    } catch (error) {
      return sendError(res, {
        status: 500,
        code: 'encode_failed',
        message: `the clip could not be made: ${(error as Error).message}`,
      });
    }
    const { size, mtime } = await stat(file);
    const headers: Record<string, string> = {
      'content-type': 'video/mp4',
      'accept-ranges': 'bytes',
      'last-modified': mtime.toUTCString(),
      etag: `"${file.slice(-36, -4)}"`,
      'cache-control': 'public, max-age=86400',
    };
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' });
      return void res.end();
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const length = end - start + 1;
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(length),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (method === 'HEAD' || length <= 0) return void res.end();
    const cut = fault === 'truncate';
    if (cut && length < 2) return resetSocket(req);
    const stream = createReadStream(file, {
      start,
      end: cut ? start + Math.floor(length / 2) - 1 : end,
    });
    stream.on('error', () => res.destroy());
    if (!cut) return void stream.pipe(res);
    stream.pipe(res, { end: false });
    // Flush the half that was sent, then close: the client sees a body shorter than promised.
    stream.on('end', () => req.socket.destroySoon());
  }

  /** Sends the webhooks of tasks that have ended and sets one timer for the next end. */
  private checkHooks(): void {
    if (this.closing.signal.aborted || this.hookTasks.size === 0) return;
    const now = this.now();
    this.board.advance(now);
    for (const task of this.hookTasks) {
      if (!TaskBoard.ended(task, now)) continue;
      this.hookTasks.delete(task);
      const url = task.body.metadata?.webhook_url ?? '';
      const payload = TaskBoard.view(task, now, (t) => this.videoUrl(t));
      for (const wait of this.deliveryDelays()) this.deliver(task, url, payload, wait);
    }
    if (this.hookTasks.size === 0) return;
    const next = this.board.nextEnd();
    if (next === undefined || next >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = next;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAt = Infinity;
        this.checkHooks();
      },
      Math.max(5, next - now),
    );
  }

  /**
   * When to call a task's webhook, in ms from now: none for a lost call, two for a duplicated
   * one; each delay drawn on its own, so calls of several tasks arrive out of order.
   */
  private deliveryDelays(): number[] {
    const { loss, dup, delayMs } = this.options.webhook;
    const r = this.random.webhooks;
    if (loss > 0 && r() < loss) {
      this.webhookCounts.lost = (this.webhookCounts.lost ?? 0) + 1;
      return [];
    }
    const draw = () => delayMs.min + r() * (delayMs.max - delayMs.min);
    return dup > 0 && r() < dup ? [draw(), draw()] : [draw()];
  }

  /** One webhook call, after `wait` ms unless the simulator closes first. */
  private deliver(task: SimTask, url: string, payload: unknown, wait: number): void {
    const { signal } = this.closing;
    const waited =
      wait <= 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {
              once: true,
            });
          });
    const delivery = waited
      .then(() => {
        if (signal.aborted) throw new Error('closed');
        return postWebhook(url, payload, signal);
      })
      .then(
        (status) => {
          if (status >= 200 && status < 300) this.webhookCounts.delivered++;
          else {
            this.webhookCounts.failed++;
            this.options.onLog({
              level: 'warn',
              message: `${task.id}: webhook ${url} answered ${status}`,
            });
          }
        },
        (error: unknown) => {
          this.webhookCounts.failed++;
          if (!signal.aborted) {
            this.options.onLog({
              level: 'warn',
              message: `${task.id}: webhook ${url} failed: ${(error as Error).message}`,
            });
          }
        },
      );
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  ledger(): Ledger {
    return buildLedger(this.board, this.now(), this.fileAuthCount);
  }

  stats(): SimulatorStats {
    return {
      requests: { ...this.requestCounts },
      faults: { ...this.faultCounts },
      file_requests_with_authorization: this.fileAuthCount,
      webhooks: { ...this.webhookCounts },
      clips: { ...this.clips.stats },
      accounts: Object.fromEntries(
        Object.entries(this.accountCounts).map(([a, counts]) => [a, { ...counts }]),
      ),
      foreign_task_requests: this.foreignTaskRequests,
    };
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    clearTimeout(this.wakeTimer);
    for (const wake of [...this.sleepers]) wake();
    const stop = (server: Server) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    await Promise.all([stop(this.api), stop(this.files), this.clips.close(), ...this.inFlight]);
    await this.state?.close();
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Starts the local Seedance API simulator on 127.0.0.1: the API on one port and the video
 * files on another. Throws a UsageError for a bad option or a port that is taken.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const resolved = resolveOptions(options);
  const state = resolved.stateDir ? await SimState.open(resolved.stateDir) : undefined;
  const server = new SimulatorServer(resolved, state);
  try {
    await server.listen();
  } catch (error) {
    await state?.close();
    throw error;
  }
  // Bound, so `const { url, ledger } = await startSimulator()` works.
  return {
    url: server.url,
    fileUrl: server.fileUrl,
    cacheDir: server.cacheDir,
    ledger: () => server.ledger(),
    stats: () => server.stats(),
    close: () => server.close(),
  };
}
