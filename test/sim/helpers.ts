import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, onTestFinished } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { SHARED_CLIP_CACHE } from '../../src/sim/clips.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { EVENT_DEADLINE_MS } from '../helpers/wait.js';

export const KEY = 'sk-test-0123456789';
export const BODY = {
  model: 'seedance-2-official',
  prompt: 'A test shot of a cat',
  duration: 4,
  metadata: { ratio: '16:9' },
};

/**
 * The machine-wide clip cache every simulated run uses: clips depend only on their spec, so
 * the test files share their encodes with each other and with earlier runs. A test that
 * counts encodes gives its simulator a cold cache of its own ({@link coldCache}).
 */
export const cacheDir = SHARED_CLIP_CACHE;

/** An empty clip cache for this test file, removed at the end. */
export function coldCache(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-sim-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A simulator closed after the test. The close is tied to the test itself, not to a hook of
 * this module: test files share modules (vitest `isolate: false`), and a module's hooks
 * belong to the first file that loads it.
 */
export async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = await startSimulator({
    apiKey: KEY,
    latency: 0,
    seed: 1,
    cacheDir,
    ...options,
  });
  onTestFinished(() => simulator.close());
  return simulator;
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

export function post(base: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/v1/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function get(
  base: string,
  id: string,
  headers: Record<string, string> = { authorization: `Bearer ${KEY}` },
) {
  return fetch(`${base}/v1/videos/${id}`, { headers });
}

/** Submits and polls until the task ends; returns the final task object. */
export async function render(base: string, body: unknown = BODY): Promise<Record<string, unknown>> {
  const submitted = (await (await post(base, body)).json()) as { id: string };
  let task: Record<string, unknown> = {};
  const ended = async () => {
    task = (await (await get(base, submitted.id)).json()) as Record<string, unknown>;
    return task.status === 'completed' || task.status === 'failed';
  };
  const end = Date.now() + EVENT_DEADLINE_MS;
  while (!(await ended())) {
    if (Date.now() > end) throw new Error(`task ${submitted.id} did not end`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return task;
}

export interface Probe {
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    pix_fmt?: string;
    r_frame_rate?: string;
    nb_read_frames?: string;
    nb_read_packets?: string;
    channels?: number;
  }[];
}

/**
 * ffprobe of a file or URL. Frames are counted by decoding them, or (`decode: false`) by
 * counting packets, which is the same for these B-frame-free clips and much cheaper.
 */
export async function probe(target: string, { decode = true } = {}): Promise<Probe> {
  const ffprobe = locateTool('ffprobe').path;
  const { stdout } = await execa(ffprobe, [
    '-v',
    'error',
    decode ? '-count_frames' : '-count_packets',
    '-show_entries',
    'stream=codec_type,codec_name,width,height,pix_fmt,r_frame_rate,nb_read_frames,nb_read_packets,channels',
    '-of',
    'json',
    target,
  ]);
  return JSON.parse(stdout) as Probe;
}
