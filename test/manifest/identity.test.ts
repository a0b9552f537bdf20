/**
 * A shot's identities name the files and journal lines of every output folder written so far:
 * these values were computed by the formulas folders were written with, and must never change.
 */
import { describe, expect, it } from 'vitest';
import type { VideoRequest } from '../../src/api/contract.js';
import {
  bodyFingerprint,
  clipPath,
  journalKey,
  pickKey,
  shotLabel,
  takeKey,
  thumbnailName,
} from '../../src/manifest/identity.js';

const request = {
  model: 'seedance-2-official',
  prompt: '橘猫在窗边',
  ratio: '16:9',
  duration: 4,
  resolution: '480p',
  content: [
    {
      type: 'image_url',
      image_url: { url: 'https://example.com/cat.png' },
      role: 'reference_image',
    },
  ],
} as unknown as VideoRequest;
const shot = { id: 's01', variant: 'tall', take: 2, request };
const KEY = 'be40af910f20c36151dd9b985cb5c0e4f15da6412aaef86eaa59e8def61d5169';

describe("a shot's identities", () => {
  it('journal key: the canonical body, the take and the base URL (trailing slash ignored)', () => {
    expect(journalKey(request, 2, 'https://api.example.com/v1/')).toBe(KEY);
    expect(journalKey(request, 2, 'https://api.example.com/v1')).toBe(KEY);
    // Key order in the body does not matter; the take and the API do.
    const reordered = Object.fromEntries(Object.entries(request).reverse()) as VideoRequest;
    expect(journalKey(reordered, 2, 'https://api.example.com/v1')).toBe(KEY);
    expect(journalKey(request, 1, 'https://api.example.com/v1')).not.toBe(KEY);
    expect(journalKey(request, 2, 'https://other.example.com/v1')).not.toBe(KEY);
  });

  it('pick fingerprint: the body alone, 16 hex digits', () => {
    expect(bodyFingerprint(shot)).toBe('b1962e049767047f');
    expect(bodyFingerprint({ request: { ...request, prompt: '橘猫跳下窗台' } })).not.toBe(
      'b1962e049767047f',
    );
  });

  it('label, clip path and thumbnail name', () => {
    expect(shotLabel(shot)).toBe('s01@tall#2');
    expect(shotLabel({ ...shot, take: 1 })).toBe('s01@tall');
    expect(shotLabel(shot, false)).toBe('s01@tall');
    expect(clipPath(shot, true)).toBe('clips/tall/s01.take2.mp4');
    expect(clipPath({ id: 's01', variant: null, take: 1 }, false)).toBe('clips/s01.mp4');
    expect(thumbnailName(KEY)).toBe(`${KEY}.jpg`);
    expect(thumbnailName('s01@tall#2 ✓')).toBe('s01_tall_2_-66f2f78a.jpg');
  });

  it('map keys of a take and of a shot', () => {
    expect(takeKey(shot)).toBe('s01\u0000tall\u00002');
    expect(pickKey('s01', 'tall')).toBe('s01\u0000tall');
    expect(pickKey('s01', null)).toBe('s01\u0000');
    expect(takeKey({ id: 's01', variant: null, take: 1 })).toBe('s01\u0000\u00001');
  });
});
