import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { BIN, CHILD_DEADLINE_MS, tempDir } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';
import { filesUnder } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import { KEY, badJournalLines, env, keyLeaks, partFiles, readReport } from './common.js';

/**
 * What the hostile server does with a shot, chosen by a word in its prompt. Every answer is
 * loopback-only and built to hold a client forever or to reach the terminal.
 */
type Mode =
  | 'trickle-post'
  | 'huge-post'
  | 'escape-error'
  | 'html-download'
  | 'gzip-download'
  | 'trickle-download'
  | 'endless'
  | 'huge-poll';

const ESCAPES = `\x1b]52;c;${Buffer.from('rm -rf ~').toString('base64')}\x07\x1b]0;owned\x07\x1b[2K\rdone 100% ${KEY} \x9b31m`;
const GZIP_BOMB = gzipSync(Buffer.alloc(64 * 1024 ** 2));

interface Hostile {
  url: string;
  posts: Map<string, number>;
  /** Task polls answered, by the task's mode. */
  polls: Map<Mode, number>;
  /** Every request answered (posts, polls, downloads). */
  requests: () => number;
  /** For each trickled answer, by mode: seconds from its first byte until the client cut it. */
  cuts: Map<Mode, number[]>;
  close: () => Promise<void>;
}

/**
 * Sends `body` one byte every `everyMs` until the client goes away, and then says after how
 * many seconds it went (by the server's clock: the client's limits, not the machine's speed).
 */
function trickle(
  res: ServerResponse,
  body: string,
  everyMs: number,
  cut: (seconds: number) => void,
): void {
  let i = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(body[i++ % body.length]!);
  }, everyMs);
  res.on('close', () => {
    clearInterval(timer);
    cut((Date.now() - started) / 1000);
  });
}

function answerPoll(mode: Mode, id: string, base: string, res: ServerResponse): unknown {
  const json = (body: unknown, headers: Record<string, string> = {}) =>
    res
      .writeHead(200, { 'content-type': 'application/json', ...headers })
      .end(JSON.stringify(body));
  const done = (file: string) =>
    json({ id, status: 'completed', seconds: 4, metadata: { url: `${base}/files/${file}` } });
  switch (mode) {
    case 'escape-error':
      return json({ id, status: 'failed', error: { code: `bad\x1b[31m${KEY}`, message: ESCAPES } });
    case 'html-download':
      return done('html.mp4');
    case 'gzip-download':
      return done('zeros.mp4');
    case 'trickle-download':
      return done('trickle.mp4');
    case 'endless':
      return json({ id, status: 'in_progress', progress: 50 }, { 'retry-after': '3600' });
    case 'huge-poll':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"id":"${id}","status":"in_progress","junk":"${'x'.repeat(8 * 1024 ** 2)}"}`);
      return;
    default:
      return json({ id, status: 'in_progress' });
  }
}

function answerPost(
  mode: Mode,
  id: string,
  res: ServerResponse,
  cut: (seconds: number) => void,
): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  if (mode === 'trickle-post') trickle(res, `{"id":"${id}","status":"queued"}`, 1000, cut);
  else if (mode === 'huge-post')
    res.end(`{"id":"${id}","status":"queued","x":"${'y'.repeat(8 * 1024 ** 2)}"}`);
  else res.end(JSON.stringify({ id, status: 'queued' }));
}

function serveFile(name: string, res: ServerResponse, cut: (seconds: number) => void): void {
  if (name === 'html.mp4') {
    res.writeHead(200, { 'content-type': 'video/mp4' }).end('<html><body>Access denied</body>');
  } else if (name === 'zeros.mp4') {
    res.writeHead(200, { 'content-type': 'video/mp4' }).end(GZIP_BOMB);
  } else {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '1000000' });
    trickle(res, '\0', 500, cut);
  }
}

async function startHostile(): Promise<Hostile> {
  const posts = new Map<string, number>();
  const polls = new Map<Mode, number>();
  const cuts = new Map<Mode, number[]>();
  let requests = 0;
  const cutOf = (mode: Mode) => {
    const seconds = cuts.get(mode) ?? [];
    cuts.set(mode, seconds);
    return (after: number) => seconds.push(after);
  };
  const modes = new Map<string, Mode>();
  let base = '';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const url = new URL(req.url ?? '/', 'http://x');
      const task = /^\/v1\/videos\/([^/]+)$/.exec(url.pathname);
      const file = /^\/files\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/v1/videos') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { prompt?: string };
        const prompt = String(body.prompt);
        posts.set(prompt, (posts.get(prompt) ?? 0) + 1);
        const mode = /mode=([a-z-]+)/.exec(prompt)![1] as Mode;
        const id = `task-${mode}-${posts.size}`;
        modes.set(id, mode);
        answerPost(mode, id, res, cutOf(mode));
      } else if (req.method === 'GET' && task) {
        const mode = modes.get(task[1]!) ?? 'endless';
        polls.set(mode, (polls.get(mode) ?? 0) + 1);
        answerPoll(mode, task[1]!, base, res);
      } else if (file) {
        serveFile(file[1]!, res, cutOf('trickle-download'));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    posts,
    polls,
    requests: () => requests,
    cuts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function writeManifest(dir: string, name: string, modes: Mode[]): string {
  const file = path.join(dir, `${name}.yaml`);
  const shots = modes
    .map((m, i) => `  - id: h${i + 1}\n    prompt: "A lighthouse at dusk, mode=${m}"`)
    .join('\n');
  writeFileSync(
    file,
    `version: 1
name: ${name}
defaults: { model: seedance-2-official, duration: 4, ratio: "16:9", size: 480p, audio: false }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
concurrency: 8
shots:
${shots}
`,
  );
  return file;
}

interface JournalLine {
  type?: string;
  key?: string;
  path?: string;
}

/**
 * Journal lines that contradict each other or the disk: a task or an unknown without an
 * intent before it, a key submitted twice, a file entry whose file is not there.
 */
function journalContradictions(out: string): number {
  const lines = readFileSync(path.join(out, 'journal.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalLine);
  const intents = new Set<string>();
  const tasks = new Set<string>();
  let bad = 0;
  for (const line of lines) {
    if (line.type === 'intent') intents.add(line.key!);
    if ((line.type === 'task' || line.type === 'unknown') && !intents.has(line.key!)) bad++;
    if (line.type === 'task') {
      if (tasks.has(line.key!)) bad++;
      tasks.add(line.key!);
    }
    if (line.type === 'file' && !existsSync(path.join(out, line.path!))) bad++;
  }
  return bad;
}

/** Peak resident memory in MB of a running process so far (Linux), -1 elsewhere. */
function peakSoFarMb(pid: number | undefined): number {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? -1 : Math.round(Number(kb) / 1024);
  } catch {
    return -1;
  }
}

/** Peak resident memory in MB of the CLI or its largest child (ffprobe), from GNU time. */
function peakMb(stderr: string): number {
  const kb = /PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1];
  return kb === undefined ? -1 : Math.round(Number(kb) / 1024);
}

// Tight limits, so a hostile answer is cut in seconds; the defaults are the same code path.
const LIMITS = {
  SHOTLIST_HTTP_DEADLINE_MS: '3000',
  SHOTLIST_HTTP_HEADERS_MS: '3000',
  SHOTLIST_DOWNLOAD_MIN_BPS: '2048',
  SHOTLIST_DOWNLOAD_WINDOW_MS: '2000',
  SHOTLIST_DOWNLOAD_DEADLINE_MS: '8000',
  SHOTLIST_MAX_RETRY_AFTER_MS: '2000',
};

/**
 * The longest a trickled answer may hold the client, by the limits above: the POST's deadline,
 * the download's (the minimum rate cuts it sooner). The server measures each cut, so a loaded
 * machine slows the run but not these: a timer fires late by milliseconds, not seconds.
 */
const CUT_WITHIN = {
  'trickle-post': Number(LIMITS.SHOTLIST_HTTP_DEADLINE_MS) / 1000,
  'trickle-download': Number(LIMITS.SHOTLIST_DOWNLOAD_DEADLINE_MS) / 1000,
} as const;
/** What the cut may lag its limit by: the time to notice and close, on any machine. */
const CUT_SLACK_SECONDS = 5;

const GNU_TIME = '/usr/bin/time';

/**
 * Starts the built CLI with the tight limits; `timed`: under GNU time where it is installed,
 * for the peak memory of the whole process tree (GNU time ignores SIGINT: not for Ctrl-C).
 */
function startRun(args: string[], cwd: string, timed = existsSync(GNU_TIME)) {
  const command = timed ? GNU_TIME : process.execPath;
  const prefix = timed ? ['-f', 'PEAK_RSS_KB=%M', process.execPath] : [];
  return execa(command, [...prefix, BIN, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { NO_COLOR: '1', ...env, ...LIMITS },
    cwd,
    timeout: CHILD_DEADLINE_MS,
  });
}

/** Every escape character (7-bit ESC and 8-bit CSI/OSC) in a run's output. */
function rawEscapes(text: string): number {
  return [...text].filter((c) => c === '\x1b' || c === '\x9b' || c === '\x9d').length;
}

describe('hostile servers', () => {
  let hostile: Hostile;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    hostile = await startHostile();
    tmp = tempDir('shotlist-hostile-servers-');
  });
  afterAll(async () => {
    await hostile.close();
    tmp.cleanup();
  });

  it('trickles, huge bodies, escapes and non-video files end within bounds, clean', async () => {
    const modes: Mode[] = [
      'trickle-post',
      'huge-post',
      'escape-error',
      'html-download',
      'gzip-download',
      'trickle-download',
    ];
    const manifest = writeManifest(tmp.dir, 'hostile', modes);
    const out = path.join(tmp.dir, 'hostile-out');
    const started = Date.now();
    const r = await startRun(
      ['run', manifest, '--base-url', hostile.url, '--out', out, '--yes'],
      tmp.dir,
    );
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const output = `${String(r.stdout)}${String(r.stderr)}`;
    const report = readReport(out);
    const byId = new Map(report.shots.map((s) => [s.id, s]));
    const cuts = (mode: keyof typeof CUT_WITHIN) => hostile.cuts.get(mode) ?? [];
    const longestCut = (mode: keyof typeof CUT_WITHIN) => Math.max(-1, ...cuts(mode));
    const figures = {
      'exit code': r.exitCode ?? -1,
      'seconds to end': seconds,
      'trickled POSTs cut (longest s)': `${cuts('trickle-post').length} (${longestCut('trickle-post')})`,
      'trickled downloads cut (longest s)': `${cuts('trickle-download').length} (${longestCut('trickle-download')})`,
      'peak MB, largest process': peakMb(String(r.stderr)),
      'shots done': report.totals.done,
      'unknown (POST cut)': [byId.get('h1'), byId.get('h2')].filter((s) => s?.status === 'unknown')
        .length,
      'non-video refused before ffprobe': [byId.get('h4'), byId.get('h5')].filter((s) =>
        /is not an MP4 video/.test(s?.error?.message ?? ''),
      ).length,
      'raw escapes in output': rawEscapes(output),
      'key leaks': keyLeaks([output], tmp.dir),
      'submissions beyond one per shot': [...hostile.posts.values()].reduce((a, n) => a + n - 1, 0),
      'journal lines bad or contradicting': badJournalLines(out) + journalContradictions(out),
      'leftover .part files': partFiles(out),
      'clip files kept': filesUnder(out).filter((f) => f.endsWith('.mp4')).length,
    };
    const expected = {
      'exit code': 1,
      'shots done': 0,
      'unknown (POST cut)': 2,
      'non-video refused before ffprobe': 2,
      'raw escapes in output': 0,
      'key leaks': 0,
      'submissions beyond one per shot': 0,
      'journal lines bad or contradicting': 0,
      'leftover .part files': 0,
      'clip files kept': 0,
    };
    const peak = figures['peak MB, largest process'];
    // Every trickle was cut by the client at its limit: none waited on the server (which
    // never ends them), whatever the run's own time on a busy machine.
    const cutInTime = (Object.keys(CUT_WITHIN) as (keyof typeof CUT_WITHIN)[]).every(
      (mode) => cuts(mode).length > 0 && longestCut(mode) <= CUT_WITHIN[mode] + CUT_SLACK_SECONDS,
    );
    const passed =
      Object.entries(expected).every(([k, v]) => figures[k as keyof typeof figures] === v) &&
      cutInTime &&
      peak < 300;
    record('hostile servers', 'trickles, huge bodies, escapes, non-video', passed, figures);
    expect(figures, output).toMatchObject(expected);
    for (const mode of Object.keys(CUT_WITHIN) as (keyof typeof CUT_WITHIN)[]) {
      expect(cuts(mode).length, mode).toBeGreaterThan(0);
      expect(longestCut(mode), mode).toBeLessThanOrEqual(CUT_WITHIN[mode] + CUT_SLACK_SECONDS);
    }
    expect(peak).toBeLessThan(300);
  });

  it('a task that never finishes and a huge poll answer end at the first Ctrl-C', async () => {
    const manifest = writeManifest(tmp.dir, 'endless', ['endless', 'huge-poll']);
    const out = path.join(tmp.dir, 'endless-out');
    const child = startRun(
      ['run', manifest, '--base-url', hostile.url, '--out', out, '--yes'],
      tmp.dir,
      false,
    );
    // Both tasks are journaled once the run polls them; then the user gives up.
    const journal = path.join(out, 'journal.ndjson');
    const submitted = () =>
      existsSync(journal) &&
      readFileSync(journal, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"type":"task"')).length === 2;
    // ...and the huge poll answer has been read twice, so it weighs on the memory now.
    await until(
      () => submitted() && (hostile.polls.get('huge-poll') ?? 0) >= 2,
      'both tasks journaled and the huge poll answered twice',
    );
    const peak = peakSoFarMb(child.pid);
    const interrupted = Date.now();
    const requestsAtInterrupt = hostile.requests();
    child.kill('SIGINT');
    const r = await child;
    const seconds = Math.round((Date.now() - interrupted) / 100) / 10;
    // At most the two polls in flight at the Ctrl-C arrive after it: the run stops at once,
    // it does not go on polling (the endless task would keep it forever).
    const requestsAfter = hostile.requests() - requestsAtInterrupt;
    const output = `${String(r.stdout)}${String(r.stderr)}`;
    const figures = {
      'exit code': r.exitCode ?? -1,
      'seconds from Ctrl-C to exit': seconds,
      'requests after Ctrl-C': requestsAfter,
      'peak MB at Ctrl-C': peak,
      'tasks kept pending': readReport(out).totals.pending,
      'raw escapes in output': rawEscapes(output),
      'key leaks': keyLeaks([output], tmp.dir),
      'journal lines bad or contradicting': badJournalLines(out) + journalContradictions(out),
    };
    const expected = {
      'exit code': 130,
      'tasks kept pending': 2,
      'raw escapes in output': 0,
      'key leaks': 0,
      'journal lines bad or contradicting': 0,
    };
    const passed =
      Object.entries(expected).every(([k, v]) => figures[k as keyof typeof figures] === v) &&
      requestsAfter <= 2 &&
      peak < 300;
    record('hostile servers', 'endless task and huge poll answers, then Ctrl-C', passed, figures);
    expect(figures, output).toMatchObject(expected);
    expect(requestsAfter).toBeLessThanOrEqual(2);
    expect(peak).toBeLessThan(300);
  });
});
