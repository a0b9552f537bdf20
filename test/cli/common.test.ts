import { describe, expect, it } from 'vitest';
import { baseOf, runCommandLine } from '../../src/cli/common.js';

describe('runCommandLine (the resume hint)', () => {
  it('keeps --simulate and every flag that decides what is sent', () => {
    const base = baseOf({ env: {} }, { simulate: true });
    const line = runCommandLine(
      'ad.yaml',
      {
        out: 'renders/x',
        variant: 'wide',
        only: 's01,s02',
        model: 'm',
        size: '720p',
        ratio: '9:16',
        duration: '6',
      },
      base,
    );
    expect(line).toBe(
      'shotlist run ad.yaml --simulate --out renders/x --variant wide --only s01,s02 --model m --size 720p --ratio 9:16 --duration 6',
    );
  });

  it('spells out a base URL that came from the environment, and quotes what a shell would split', () => {
    const base = baseOf({ env: { SHOTLIST_BASE_URL: 'http://127.0.0.1:8090/' } }, {});
    expect(runCommandLine('my ad.yaml', {}, base)).toBe(
      "shotlist run 'my ad.yaml' --base-url http://127.0.0.1:8090",
    );
  });

  it('leaves the default API implicit', () => {
    expect(
      runCommandLine(
        'ad.yaml',
        { yes: true, 'max-cost': '50', 'max-attempts': '3' },
        baseOf({ env: {} }, {}),
      ),
    ).toBe('shotlist run ad.yaml --max-cost 50 --max-attempts 3 --yes');
  });
});
