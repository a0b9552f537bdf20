import { describe, expect, it } from 'vitest';
import {
  chainedTuning,
  DEFAULT_POLL_TUNING,
  DurationModel,
  nextPollDelay,
  scaleTuning,
} from '../../src/render/poll.js';

const half = () => 0.5;

describe('DurationModel', () => {
  it('takes the middle of each censoring window and answers quantiles', () => {
    const m = new DurationModel();
    m.add(8000, 12000);
    m.add(18000, 22000);
    m.add(28000, 32000);
    expect(m.count).toBe(3);
    expect(m.quantile(0)).toBe(10000);
    expect(m.quantile(0.5)).toBe(20000);
    expect(m.quantile(1)).toBe(30000);
  });
  it('keeps a bounded number of samples', () => {
    const m = new DurationModel(2);
    m.add(0, 2);
    m.add(0, 4);
    m.add(0, 6);
    expect(m.count).toBe(2);
    expect(m.quantile(0)).toBe(2);
  });
});

describe('nextPollDelay', () => {
  const tuning = DEFAULT_POLL_TUNING;
  it('starts early and grows to the target while nothing is known', () => {
    const m = new DurationModel();
    expect(nextPollDelay({ ageMs: 0, polls: 0, model: m, tuning, random: half })).toBe(
      tuning.firstMs,
    );
    expect(nextPollDelay({ ageMs: 30_000, polls: 10, model: m, tuning, random: half })).toBe(
      tuning.targetDelayMs,
    );
  });
  it('stays quiet until the earliest plausible finish, then looks closely', () => {
    const m = new DurationModel();
    for (const d of [60_000, 70_000, 80_000, 90_000, 100_000]) m.add(d - 1000, d + 1000);
    const early = nextPollDelay({ ageMs: 1000, polls: 0, model: m, tuning, random: half });
    // One look a target delay (here 4 s, 5 % of the median) before the earliest finish seen.
    expect(Math.abs(1000 + early - (m.quantile(0.02) - 4000))).toBeLessThanOrEqual(1);
    const slow = new DurationModel();
    for (const d of [600_000, 700_000, 800_000]) slow.add(d - 1000, d + 1000);
    expect(nextPollDelay({ ageMs: 1000, polls: 0, model: slow, tuning, random: half })).toBe(
      tuning.maxMs,
    );
    const justBefore = nextPollDelay({ ageMs: 50_000, polls: 2, model: m, tuning, random: half });
    expect(justBefore).toBeLessThan(7000);
    const inside = nextPollDelay({ ageMs: 75_000, polls: 3, model: m, tuning, random: half });
    expect(inside).toBe(Math.min(tuning.targetDelayMs, tuning.relativeDelay * 80_000));
    const late = nextPollDelay({ ageMs: 300_000, polls: 20, model: m, tuning, random: half });
    expect(late).toBeGreaterThan(tuning.targetDelayMs);
    expect(late).toBeLessThanOrEqual(tuning.maxMs);
  });
  it('looks more often for short tasks, never below the floor', () => {
    const m = new DurationModel();
    for (let i = 0; i < 5; i++) m.add(0, 100);
    expect(nextPollDelay({ ageMs: 0, polls: 0, model: m, tuning, random: half })).toBe(
      tuning.minMs,
    );
  });
  it('adds bounded jitter', () => {
    const m = new DurationModel();
    const lo = nextPollDelay({ ageMs: 30_000, polls: 10, model: m, tuning, random: () => 0 });
    const hi = nextPollDelay({ ageMs: 30_000, polls: 10, model: m, tuning, random: () => 0.999 });
    expect(lo).toBeGreaterThanOrEqual(tuning.targetDelayMs * 0.9 - 1);
    expect(hi).toBeLessThanOrEqual(tuning.targetDelayMs * 1.1 + 1);
  });
  it('looks twice as closely at a task other shots wait for, once it could be done', () => {
    const m = new DurationModel();
    for (const d of [60_000, 70_000, 80_000, 90_000, 100_000]) m.add(d - 1000, d + 1000);
    const at = { ageMs: 75_000, polls: 3, model: m, random: half };
    const own = nextPollDelay({ ...at, tuning });
    expect(nextPollDelay({ ...at, tuning: chainedTuning(tuning) })).toBe(own / 2);
    // Nothing changes before the earliest finish: no extra looks while no task can be done.
    const early = { ageMs: 1000, polls: 0, model: m, random: half };
    expect(
      Math.abs(
        nextPollDelay({ ...early, tuning: chainedTuning(tuning) }) -
          nextPollDelay({ ...early, tuning }),
      ),
    ).toBeLessThanOrEqual(2000);
  });
  it('scales every duration together', () => {
    const s = scaleTuning(tuning, 0.1);
    expect(s.firstMs).toBe(100);
    expect(s.relativeDelay).toBe(tuning.relativeDelay);
  });
});
