import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    figuresDir: string;
  }
}

interface Check {
  suite: string;
  name: string;
  passed: boolean;
  figures: Record<string, number | string>;
}

/** Collects the figures each reliability test records and prints them as one table at the end. */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-reliability-'));
  project.provide('figuresDir', dir);
  return () => {
    const checks: Check[] = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Check);
    rmSync(dir, { recursive: true, force: true });
    const lines = ['', 'reliability figures', ''];
    for (const c of checks) {
      lines.push(`${c.passed ? 'PASS' : 'FAIL'}  ${c.suite}: ${c.name}`);
      for (const [k, v] of Object.entries(c.figures)) lines.push(`        ${k.padEnd(34)} ${v}`);
    }
    const passed = checks.filter((c) => c.passed).length;
    lines.push('', `reliability: ${passed} passed, ${checks.length - passed} failed`, '');
    process.stdout.write(`${lines.join('\n')}\n`);
  };
}
