/**
 * The simulator's asset origin: `PUT`, `HEAD` and `GET /assets/<key>`, so a simulated run
 * uploads its local files where the simulator itself can fetch them back, like a CDN.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** The route's keys: content-addressed names, nothing that could leave the folder. */
export const ASSET_ROUTE = /^\/assets\/([A-Za-z0-9][A-Za-z0-9._-]{0,200})$/;

function send(res: ServerResponse, status: number, message?: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(message === undefined ? undefined : `${message}\n`);
}

/** Files put to the simulator, kept under `dir` (its state folder) or in memory without one. */
export class SimAssets {
  private readonly memory = new Map<string, { type: string; data: Buffer }>();

  constructor(private readonly dir: string | undefined) {}

  async handle(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'PUT') return this.put(req, res, key);
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD, PUT');
      return send(res, 405, `assets take GET, HEAD or PUT, not ${method}`);
    }
    const found = await this.find(key);
    if (!found) return send(res, 404, `no asset ${key}`);
    res.writeHead(200, { 'content-type': found.type, 'content-length': String(found.bytes) });
    if (method === 'HEAD') return void res.end();
    if (found.data) return void res.end(found.data);
    await pipeline(createReadStream(this.file(key)), res);
  }

  private file(key: string): string {
    return path.join(this.dir!, key);
  }

  private async find(
    key: string,
  ): Promise<{ type: string; bytes: number; data?: Buffer } | undefined> {
    if (!this.dir) {
      const item = this.memory.get(key);
      return item && { type: item.type, bytes: item.data.length, data: item.data };
    }
    try {
      const info = await stat(this.file(key));
      const type = await readFile(`${this.file(key)}.type`, 'utf8').catch(() => '');
      return { type: type || 'application/octet-stream', bytes: info.size };
    } catch {
      return undefined;
    }
  }

  private async put(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    const type = req.headers['content-type'] ?? 'application/octet-stream';
    if (!this.dir) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      this.memory.set(key, { type, data: Buffer.concat(chunks) });
      return send(res, 201);
    }
    await mkdir(this.dir, { recursive: true });
    // Written aside, then renamed: a half-received file is never served.
    const part = `${this.file(key)}.${process.pid}.${Date.now()}.part`;
    await pipeline(req, createWriteStream(part));
    await writeFile(`${this.file(key)}.type`, type);
    await rename(part, this.file(key));
    send(res, 201);
  }
}
