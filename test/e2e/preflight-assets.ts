/** A local asset host for preflight tests: good and bad references, every request recorded. */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FFMPEG, makeImage } from '../helpers/tools.js';

export interface Route {
  status?: number;
  type?: string;
  file?: string;
  body?: string;
  /** Accept the connection and never answer. */
  hang?: boolean;
  /** Answer HEAD with 405 (a host that only serves GET). */
  noHead?: boolean;
  redirect?: string;
}

export interface AssetHost {
  url: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close: () => Promise<void>;
}

function ffmpeg(args: string[]): void {
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** A one-colour PNG. */
export function makePng(file: string, colour: string, size = 64): string {
  return makeImage(file, colour, size, size);
}

/** A small H.264 MP4 of `seconds`, its index at the start (streamable). */
export function makeVideo(file: string, seconds: number): string {
  ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc=s=64x64:r=25:d=${seconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...['-movflags', '+faststart', file],
  ]);
  return file;
}

/** A short AAC tone. */
export function makeAudio(file: string, seconds: number): string {
  ffmpeg(['-f', 'lavfi', '-i', `sine=d=${seconds}`, '-c:a', 'aac', file]);
  return file;
}

function serveFile(res: ServerResponse, method: string, route: Route, range: string | undefined) {
  const data = route.file ? readFileSync(route.file) : Buffer.from(route.body ?? '');
  const headers: Record<string, string> = {
    'content-type': route.type ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    ...(route.file ? { etag: `"${statSync(route.file).size}-${path.basename(route.file)}"` } : {}),
  };
  const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
  let body = data;
  let status = route.status ?? 200;
  if (match && status === 200) {
    const start = Number(match[1]);
    const end = match[2] ? Math.min(Number(match[2]), data.length - 1) : data.length - 1;
    body = data.subarray(start, end + 1);
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${data.length}`;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

/** Serves `routes` on 127.0.0.1; unknown paths are 404. */
export async function startAssetHost(routes: Record<string, Route>): Promise<AssetHost> {
  const requests: AssetHost['requests'] = [];
  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://host').pathname;
    requests.push({ method, path: pathname, headers: req.headers });
    req.resume();
    const route = routes[pathname] ?? { status: 404, type: 'text/plain', body: 'not found' };
    if (route.hang) return;
    if (route.redirect) {
      res.writeHead(302, { location: route.redirect, 'content-length': '0' });
      return void res.end();
    }
    if (route.noHead && method === 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-length': '0' });
      return void res.end();
    }
    serveFile(res, method, route, req.headers.range);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
