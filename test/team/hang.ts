/**
 * An API in front of the simulator that passes every request on, but answers the first
 * `POST /v1/videos` never: the simulator made the task, the client never learns its id. A
 * worker killed while it waits has died "between a POST and its task id".
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Simulator } from '../../src/sim/index.js';

export interface HangingApi {
  /** The API's base URL, as every machine of the team names it. */
  url: string;
  /** Resolves once the held POST has reached the simulator (its task exists). */
  held: Promise<void>;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function hangingApi(sim: Simulator): Promise<HangingApi> {
  let posts = 0;
  let reached!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'idempotency-key', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const hold = req.method === 'POST' && req.url === '/v1/videos' && posts++ === 0;
      const answer = await fetch(`${sim.url}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
      const text = Buffer.from(await answer.arrayBuffer());
      if (hold) {
        reached();
        return; // the socket stays open, unanswered
      }
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      res.end(text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
