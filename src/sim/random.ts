import { randomInt } from 'node:crypto';

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** Mixes a 32-bit value so nearby seeds give unrelated streams (splitmix32's finaliser). */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** mulberry32: tiny, fast and plenty for a simulator; not for anything secret. */
function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Independent streams, one per concern, so that adding a draw to one (say, a fault) does not
 * shift the others (task outcomes, ids) and a seeded run stays comparable across versions.
 */
export function randomStreams<Name extends string>(
  seed: number | undefined,
  names: readonly Name[],
): Record<Name, Random> {
  const base = seed === undefined ? randomInt(0, 2 ** 32 - 1) : seed >>> 0;
  const streams = {} as Record<Name, Random>;
  names.forEach((name, i) => {
    streams[name] = mulberry32(mix32(base ^ mix32(i + 1)));
  });
  return streams;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A `task_` id like the gateway's (`task_` and 12 lowercase letters or digits). */
export function taskId(random: Random): string {
  let id = 'task_';
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
  return id;
}

/** A cheap, stable 32-bit hash (FNV-1a) for picking a colour from a prompt. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
