/** What `status`, `review` and S3-compatible storage show the job tests (built bin). */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { shotlist, spawnShotlist } from '../helpers/cli.js';

export interface StatusShot {
  id: string;
  variant: string | null;
  take: number;
  key: string;
  state: string;
  picked: boolean;
}
export interface ReviewShotState {
  id: string;
  variant: string | null;
  picked: number;
  stale: string | null;
  takes: { take: number; status: string; clip: string | null }[];
}

export async function statusOf(args: string[], env: NodeJS.ProcessEnv) {
  const r = await shotlist(['status', ...args, '--json'], { env });
  return { ...r, shots: (JSON.parse(r.stdout) as { shots: StatusShot[] }).shots };
}

/** `shotlist review` with `args`: the state its page is given, then the server is stopped. */
export async function reviewStateOf(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<ReviewShotState[]> {
  const child = spawnShotlist(['review', ...args, '--json'], { env });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]!);
      });
      void child.then((r) => reject(new Error(`review ended: ${String(r.stderr)}`)));
    });
    const page = new URL((JSON.parse(line) as { url: string }).url);
    const state = new URL('/api/state', page);
    state.search = page.search;
    const res = await fetch(state);
    return ((await res.json()) as { shots: ReviewShotState[] }).shots;
  } finally {
    child.kill('SIGINT');
    await child;
  }
}

/** S3-compatible storage on loopback: its endpoint, and a function that stops it. */
export interface Storage {
  endpoint: string;
  close: () => Promise<void>;
}

/** s3rver on loopback (bucket `media`) behind a pass-through proxy, storing under `dir`. */
export async function startStorage(dir: string): Promise<Storage> {
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: 'media', configs: [] }],
  });
  const { port } = (await s3.run()) as AddressInfo;
  const proxy: Server = createServer((req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3.close();
    },
  };
}

/** The storage credentials s3rver accepts, in their standard environment variables. */
export const storageEnv = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'storage-secret-job-4b7e2a91',
  AWS_EC2_METADATA_DISABLED: 'true',
};
