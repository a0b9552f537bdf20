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
