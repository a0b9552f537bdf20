/** Helpers of the chained-frame tests: the storage frames are uploaded to, and chain manifests. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** A static server on loopback over one folder of PNG files. */
export interface PngFolderServer {
  url: string;
  close: () => Promise<void>;
}

/**
 * Serves the files of `dir` (by base name) as image/png on 127.0.0.1: the storage that the
 * test manifests upload their frames to. Anything else is 404.
 */
export async function servePngFolder(dir: string): Promise<PngFolderServer> {
  const server = createServer((req, res) => {
    const file = path.join(dir, path.basename(decodeURIComponent(req.url ?? '/')));
    try {
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The `shots:` lines of `chains` chains of `links` shots (`c1s1`...), each shot after the first
 * of a chain starting on the last frame of the one before it.
 */
export function chainShots(chains: number, links: number): string {
  const shots: string[] = [];
  for (let c = 1; c <= chains; c++) {
    for (let n = 1; n <= links; n++) {
      const from = n > 1 ? `, assets: { images: [{ from: c${c}s${n - 1}, frame: last }] }` : '';
      shots.push(`  - { id: c${c}s${n}, prompt: "chain ${c} shot ${n}"${from} }`);
    }
  }
  return shots.join('\n');
}
