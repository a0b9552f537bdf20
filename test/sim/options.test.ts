import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseFaults, parseLatency, startSimulator } from '../../src/sim/index.js';
import { parseRange } from '../../src/sim/server.js';

describe('parseLatency', () => {
  it.each([
    ['2-6s', { min: 2, max: 6 }],
    ['0.5-1.5', { min: 0.5, max: 1.5 }],
    ['0', { min: 0, max: 0 }],
    ['3s', { min: 3, max: 3 }],
    [' 1 - 2 s ', { min: 1, max: 2 }],
  ])('reads %j', (text, range) => expect(parseLatency(text)).toEqual(range));

  it.each(['', 'fast', '6-2s', '-1', '2-6ms', '1-2-3'])('refuses %j with a fix', (text) => {
    expect(() => parseLatency(text)).toThrow(UsageError);
    try {
      parseLatency(text);
    } catch (error) {
      expect((error as UsageError).fix).toMatch(/\S/);
    }
  });
});

describe('parseFaults', () => {
  it('reads every kind', () => {
    expect(parseFaults('429=0.1,500=0.05,502=0.01,reset=0.02,slow=0.02,truncate=0.05')).toEqual({
      '429': 0.1,
      '500': 0.05,
      '502': 0.01,
      reset: 0.02,
      slow: 0.02,
      truncate: 0.05,
    });
    expect(parseFaults('')).toEqual({});
    expect(parseFaults('none')).toEqual({});
  });

  it.each([
    ['404=0.1', /unknown fault "404"/],
    ['429', /not NAME=RATE/],
    ['429=lots', /not a share from 0 to 1/],
    ['429=1.5', /not a share/],
    ['429=', /not a share/],
    ['429=0.1,429=0.2', /given twice/],
    ['429=0.6,500=0.6', /add up to 1.2/],
  ])('refuses %j', (text, message) => {
    expect(() => parseFaults(text)).toThrow(message);
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-500', { start: 0, end: 99 }],
    ['bytes=50-500', { start: 50, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=0-1,5-6', undefined],
    ['bytes=9-1', undefined],
    ['items=0-1', undefined],
  ])('%s of 100 bytes', (header, expected) => expect(parseRange(header, 100)).toEqual(expected));
});

describe('startSimulator options', () => {
  it.each([
    [{ failRate: 2 }, /fail rate 2/],
    [{ maxConcurrent: 0 }, /maxConcurrent/],
    [{ port: 70000 }, /not a port/],
    [{ latency: { min: 3, max: 1 } }, /latency/],
    [{ faults: { '500': -1 } }, /not a share/],
    [{ apiKey: ' ' }, /empty/],
    [{ seed: 1.5 }, /seed/],
  ])('refuses %j with a UsageError', async (options, message) => {
    await expect(startSimulator(options)).rejects.toThrow(message);
    await expect(startSimulator(options)).rejects.toBeInstanceOf(UsageError);
  });

  it('refuses a port that is taken', async () => {
    const first = await startSimulator();
    try {
      const port = Number(new URL(first.url).port);
      await expect(startSimulator({ port })).rejects.toThrow(/cannot listen/);
    } finally {
      await first.close();
    }
  });
});
