import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLES, cli as runInProcess, tempDir } from '../helpers/cli.js';

/** The shared in-process runner, with this file's result names. */
async function cli(argv: string[], cwd: string) {
  const r = await runInProcess(argv, { cwd });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('commands find files from the context’s working directory', () => {
  // A folder other than the process's own, so a command that ignores ctx.cwd cannot pass.
  let repo: string;
  beforeEach(() => {
    repo = path.join(dir, 'repo');
    mkdirSync(path.join(repo, 'story'), { recursive: true });
    copyFileSync(path.join(EXAMPLES, 'campaign.yaml'), path.join(repo, 'story', 'campaign.yaml'));
  });

  it('plan reads a relative manifest from ctx.cwd', async () => {
    const r = await cli(['plan', '--json', 'story/campaign.yaml'], repo);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).manifest.name).toBeTruthy();
  });

  it('validate reads a relative manifest from ctx.cwd', async () => {
    const r = await cli(['validate', 'story/campaign.yaml'], repo);
    expect(r).toMatchObject({ code: 0, stdout: 'ok: story/campaign.yaml\n', stderr: '' });
  });

  it('init writes into ctx.cwd, creating the missing folders', async () => {
    const r = await cli(['init', 'sub/dir/x.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote sub/dir/x.yaml');
    const written = path.join(dir, 'sub', 'dir', 'x.yaml');
    expect(readFileSync(written, 'utf8')).toContain('version: 1');
    expect((await cli(['validate', 'sub/dir/x.yaml'], dir)).code).toBe(0);
  });

  it('init says why it cannot write, without a stack trace', async () => {
    writeFileSync(path.join(dir, 'file'), '');
    const r = await cli(['init', 'file/x.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot write file\/x\.yaml: (ENOTDIR|EEXIST)\n {2}fix: /);
    expect(r.stderr).not.toContain('    at ');
  });
});

describe('unknown flags', () => {
  it('suggest the flag that was probably meant', async () => {
    const r = await cli(['plan', '--varaint', 'wide', 'm.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: unknown flag --varaint\n  fix: did you mean --variant?\n');
  });

  it('point at --help when nothing is close', async () => {
    const r = await cli(['validate', '--zzzzzz', 'm.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fix: Usage: shotlist validate');
    expect(r.stderr).toContain('--help lists the options');
  });
});

describe('--allow-outside', () => {
  const manifest = (file: string) =>
    `version: 1\nname: demo\nshots:\n  - { id: a, prompt: one }\nstitch:\n  soundtrack: { file: ${file} }\n`;

  beforeEach(() => {
    mkdirSync(path.join(dir, 'project'));
    writeFileSync(path.join(dir, 'private.m4a'), 'secret');
    symlinkSync(path.join(dir, 'private.m4a'), path.join(dir, 'project', 'song.m4a'));
    writeFileSync(path.join(dir, 'project', 'm.yaml'), manifest('song.m4a'));
  });

  it('validate and plan refuse a soundtrack that resolves outside the folder, at its line', async () => {
    for (const command of ['validate', 'plan']) {
      const r = await cli([command, 'project/m.yaml'], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `project/m.yaml:6:23: error: soundtrack file "song.m4a" is outside the manifest's folder`,
      );
      expect(r.stderr).toContain('--allow-outside');
      expect(r.stdout).toBe('');
    }
  });

  it('validate and plan accept it with --allow-outside', async () => {
    expect(await cli(['validate', '--allow-outside', 'project/m.yaml'], dir)).toMatchObject({
      code: 0,
      stderr: '',
    });
    const plan = await cli(['plan', '--json', '--allow-outside', 'project/m.yaml'], dir);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout).shots).toHaveLength(1);
  });

  it('run, status and stitch take the flag', async () => {
    for (const command of ['run', 'status', 'stitch']) {
      const r = await cli([command, '--allow-outside', '--zzzz', 'project/m.yaml'], dir);
      expect(r.stderr).toContain('unknown flag --zzzz');
      const without = await cli([command, '--allow-outsid', 'project/m.yaml'], dir);
      expect(without.stderr).toContain('did you mean --allow-outside?');
    }
    expect(existsSync(path.join(dir, 'renders'))).toBe(false);
  });
});
