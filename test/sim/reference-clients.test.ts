import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { KEY, sim } from './helpers.js';

const fixtures = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/reference-clients',
);

function works(command: string, args: string[]): boolean {
  try {
    return execaSync(command, args, { reject: false, stdin: 'ignore' }).exitCode === 0;
  } catch {
    return false;
  }
}

const python = works('python3', ['-c', 'import requests']);
const curlAndJq = works('curl', ['--version']) && works('jq', ['--version']);
const why = (missing: string) => `skipped: ${missing} not found on this machine`;

describe("the reference's own clients, pointed at the simulator", () => {
  it.skipIf(!python)(
    python ? 'the Python polling example renders a video' : why('python3 with the requests module'),
    async () => {
      const simulator = await sim({ latency: 0 });
      const run = await execa('python3', [path.join(fixtures, 'poll.py')], {
        env: { API_BASE: simulator.url, API_KEY: KEY, PYTHONIOENCODING: 'utf-8' },
        reject: false,
      });
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/^任务已创建: task_[a-z0-9]{12}$/m);
      expect(run.stdout).toMatch(/^状态: completed, 进度: 100%$/m);
      const url = /生成成功!视频链接: (\S+)/.exec(run.stdout)?.[1] ?? '';
      expect(url.startsWith(`${simulator.fileUrl}/videos/`)).toBe(true);
      expect(simulator.ledger().totals).toMatchObject({ submissions: 1, billed_seconds: 5 });
    },
  );

  it.skipIf(!python)(
    python
      ? 'the Python polling example reports a failed task'
      : why('python3 with the requests module'),
    async () => {
      const simulator = await sim({ latency: 0, failRate: 1 });
      const run = await execa('python3', [path.join(fixtures, 'poll.py')], {
        env: { API_BASE: simulator.url, API_KEY: KEY, PYTHONIOENCODING: 'utf-8' },
      });
      expect(run.stdout).toMatch(/^生成失败: .+$/m);
      expect(simulator.ledger().totals.billed_seconds).toBe(0);
    },
  );

  it.skipIf(!curlAndJq)(
    curlAndJq ? 'the curl + jq loop renders a video' : why('curl or jq'),
    async () => {
      const simulator = await sim({ latency: 0 });
      const run = await execa('bash', [path.join(fixtures, 'poll.sh')], {
        env: { API_BASE: simulator.url, API_KEY: KEY },
        reject: false,
      });
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/^任务ID: task_[a-z0-9]{12}$/m);
      expect(run.stdout).toMatch(/^状态: completed$/m);
      const url = /视频链接: (\S+)/.exec(run.stdout)?.[1] ?? '';
      expect(url.startsWith(`${simulator.fileUrl}/videos/`)).toBe(true);
      expect(simulator.ledger().totals.submissions).toBe(1);
    },
  );
});
