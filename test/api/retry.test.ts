import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyFailure, parseRetryAfter } from '../../src/api/retry.js';
import { checkBaseUrl, isLoopbackHost } from '../../src/api/url.js';
import { cleanServerText, redact, stripControls } from '../../src/api/redact.js';
import { parseDotEnv } from '../../src/api/key.js';

describe('classifyFailure', () => {
  it('retries a POST only when the server certainly created nothing', () => {
    expect(classifyFailure({ method: 'POST', status: 429, sent: true })).toBe('retry');
    expect(classifyFailure({ method: 'POST', sent: false, code: 'ECONNRESET' })).toBe('retry');
    expect(classifyFailure({ method: 'POST', sent: true, code: 'ECONNREFUSED' })).toBe('retry');
    expect(classifyFailure({ method: 'POST', status: 500, sent: true })).toBe('ambiguous');
    expect(classifyFailure({ method: 'POST', status: 502, sent: true })).toBe('ambiguous');
    expect(classifyFailure({ method: 'POST', sent: true, code: 'UND_ERR_SOCKET' })).toBe(
      'ambiguous',
    );
    expect(classifyFailure({ method: 'POST', sent: true, code: 'UND_ERR_HEADERS_TIMEOUT' })).toBe(
      'ambiguous',
    );
  });
  it('retries GETs on anything transient', () => {
    expect(classifyFailure({ method: 'GET', status: 503, sent: true })).toBe('retry');
    expect(classifyFailure({ method: 'GET', status: 429, sent: true })).toBe('retry');
    expect(classifyFailure({ method: 'GET', sent: true, code: 'UND_ERR_SOCKET' })).toBe('retry');
  });
  it('stops the run on 401/403 and the shot on other 4xx', () => {
    expect(classifyFailure({ method: 'GET', status: 401, sent: true })).toBe('auth');
    expect(classifyFailure({ method: 'POST', status: 403, sent: true })).toBe('auth');
    expect(classifyFailure({ method: 'POST', status: 400, sent: true })).toBe('reject');
    expect(classifyFailure({ method: 'GET', status: 404, sent: true })).toBe('reject');
  });
});

describe('backoffDelay', () => {
  const opts = (r: number) => ({ baseMs: 500, maxMs: 20_000, random: () => r });
  it('grows exponentially with jitter and a ceiling', () => {
    expect(backoffDelay(0, opts(1))).toBe(500);
    expect(backoffDelay(3, opts(1))).toBe(4000);
    expect(backoffDelay(10, opts(1))).toBe(20_000);
    expect(backoffDelay(3, opts(0))).toBe(400);
    const d = backoffDelay(2, opts(0.5));
    expect(d).toBeGreaterThan(200);
    expect(d).toBeLessThan(2000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
  it('obeys at most a minute, or the ceiling given', () => {
    expect(parseRetryAfter('3600', 0)).toBe(60_000);
    expect(
      parseRetryAfter('Wed, 01 Jan 2025 01:00:00 GMT', Date.parse('2025-01-01T00:00:00Z')),
    ).toBe(60_000);
    expect(parseRetryAfter('3600', 0, 5000)).toBe(5000);
  });
});

describe('base URL', () => {
  it('refuses plain http except on loopback', () => {
    expect(() => checkBaseUrl('http://api.example.com')).toThrow(/plain http/);
    expect(checkBaseUrl('http://127.0.0.1:8080/').toString()).toBe('http://127.0.0.1:8080/');
    expect(checkBaseUrl('https://cdn.12ai.org/').origin).toBe('https://cdn.12ai.org');
    expect(() => checkBaseUrl('https://user:pw@cdn.12ai.org')).toThrow(/credentials/);
    expect(() => checkBaseUrl('ftp://x')).toThrow();
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });

  it('takes only literal loopback addresses, the one check the simulator shares', () => {
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('127.255.255.254')).toBe(true);
    // Not an address at all, so it would be looked up by name.
    expect(isLoopbackHost('127.0.0.300')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
    expect(isLoopbackHost('app.localhost')).toBe(false);
    expect(isLoopbackHost('[::ffff:7f00:1]')).toBe(false);
  });
});

describe('redact and .env', () => {
  it('blanks every occurrence of a secret', () => {
    expect(redact('Bearer sk-123456 and sk-123456', ['sk-123456'])).toBe('Bearer *** and ***');
  });
  it('strips terminal escapes and controls from server text', () => {
    const cases: [string, string][] = [
      ['a\x1b]52;c;cm0gLXJmIH4=\x07b', 'ab'],
      ['a\x1b]0;title\x1b\\b', 'ab'],
      ['a\x1b]8;;http://x\x07link\x1b]8;;\x07', 'alink'],
      ['\x1b[2K\r✔ done\x1b[0m', ' ✔ done'],
      ['a\x9b31mb\x9d0;t\x9cc', 'abc'],
      ['a\x1bPq#0;2;0;0;0\x1b\\b', 'ab'],
      ['line1\nline2\ttab\x00\x7f', 'line1 line2 tab '],
      ['rtl \u202eexe.txt', 'rtl  exe.txt'],
      ['unterminated \x1b]52;c;AAAA', 'unterminated '],
      ['猫 ok', '猫 ok'],
    ];
    for (const [input, out] of cases) expect(stripControls(input)).toBe(out);
  });
  it('cleans server text: escapes out first, so a key split by one is still redacted', () => {
    const key = 'sk-abcdef123456';
    expect(cleanServerText(`x sk-abc\x1b[0mdef123456 y`, [key])).toBe('x *** y');
    expect(cleanServerText('a'.repeat(50), [key], 10)).toBe(`${'a'.repeat(10)}…`);
  });
  it('parses .env lines', () => {
    expect(
      parseDotEnv('# c\nexport API_KEY="a b"\nSHOTLIST_API_KEY=xyz # note\nBAD LINE\n'),
    ).toEqual({
      API_KEY: 'a b',
      SHOTLIST_API_KEY: 'xyz',
    });
  });
});
