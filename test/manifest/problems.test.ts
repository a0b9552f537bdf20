import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkManifest, loadManifest } from '../../src/manifest/load.js';
import { ManifestError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';
import { useCliWording } from '../helpers/cli-wording.js';

function errors(text: string, options = {}) {
  return checkManifest(text, 'm.yaml', options)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.line}:${d.col} ${d.message} | ${d.fix ?? ''}`);
}

// Messages read through the command line, in its wording.
useCliWording();

describe('variables that use variables', () => {
  it('expands a variable inside another one before the prompt uses it', () => {
    const text = `version: 1
name: demo
vars:
  brand: Acme
  product: "\${brand} earbuds"
shots:
  - id: a
    prompt: "\${product} on a table"
`;
    const result = checkManifest(text, 'm.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.loaded?.manifest.shots[0]?.prompt).toBe('Acme earbuds on a table');
  });

  it('names a loop once, at the variable that closes it, and an unknown name in a var at its line', () => {
    const text = `version: 1
name: demo
vars:
  a: "x \${b}"
  b: "y \${c}"
  c: "z \${a}"
  d: "\${nope}"
shots:
  - id: s
    prompt: "\${a} and \${d}"
`;
    expect(errors(text)).toEqual([
      '6:6 variable ${c} is part of a loop: ${c} -> ${a} -> ${b} -> ${c} (${a} at line 4, ${b} at line 5) | write the text out in one of these variables instead of referring to another',
      '7:6 unknown variable ${nope} | define it under vars, or use one of ${a}, ${b}, ${c}, ${d}',
    ]);
  });

  it('says a variable that refers to itself is a loop', () => {
    const text =
      'version: 1\nname: demo\nvars: { a: "x ${a}" }\nshots: [{ id: s, prompt: "${a}" }]\n';
    expect(errors(text)).toEqual([
      expect.stringMatching(/^3:\d+ variable \$\{a\} refers to itself/),
    ]);
  });
});

describe('every problem in one pass', () => {
  it('reports YAML, schema, duplicate-id, rule and stitch problems together', () => {
    const text = `version: 1
name: demo
shots:
  - id: a
    prompt: Scene: a cat on a mat
  - id: b
    prompt: hello
    duration: 99
  - id: c
    prompt: hi
    ratio: "5:4"
  - id: b
    prompt: hi
    assets: { images: [https://a/1.jpg, https://a/2.jpg, https://a/3.jpg, https://a/4.jpg, https://a/5.jpg, https://a/6.jpg, https://a/7.jpg, https://a/8.jpg, https://a/9.jpg, https://a/10.jpg] }
stitch:
  order: [b, x]
`;
    expect(errors(text).map((e) => e.split(' |')[0])).toEqual([
      '5:13 the value of "prompt" contains ": ", which YAML reads as a key inside the value',
      '8:15 duration 99 must be <= 15',
      '11:12 ratio "5:4" is not one of "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"',
      '12:9 id "b" is used twice (also shots[1])',
      '14:23 multi_ref takes at most 9 images, got 10',
      '16:14 stitch.order names "x", which is not a shot id',
    ]);
    // Each one says what to do, not only what is wrong.
    expect(errors(text).filter((e) => e.endsWith('| '))).toEqual([]);
  });
});

describe('a shot with a wrong value', () => {
  it('is still checked against the API rules, and each value is reported once', () => {
    const images = Array.from({ length: 10 }, (_, i) => `https://a/${i}.jpg`).join(', ');
    const text = `version: 1\nname: demo\nshots:\n  - id: a\n    prompt: hi\n    duration: 20\n    ratio: "2:1"\n    assets: { images: [${images}] }\n`;
    expect(errors(text).map((e) => e.split(' |')[0])).toEqual([
      '6:15 duration 20 must be <= 15',
      '7:12 ratio "2:1" is not one of "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"',
      '8:23 multi_ref takes at most 9 images, got 10',
    ]);
  });
});

describe('YAML problems in the manifest’s words', () => {
  it('gives the quoted line to write for an unquoted colon', () => {
    const text = 'version: 1\nname: demo\nshots:\n  - id: a\n    prompt: Scene: a cat\n';
    expect(errors(text)).toEqual([
      '5:13 the value of "prompt" contains ": ", which YAML reads as a key inside the value | quote the value: prompt: "Scene: a cat"',
    ]);
  });

  it.each([
    ['@image_file_1 walks in', '5:13 YAML: Plain value cannot start with reserved character @'],
    ['[wide] cat walks', '5:20 YAML: Unexpected scalar at node end'],
  ])('gives the quoted line to write for prompt: %s', (value, said) => {
    const text = `version: 1\nname: demo\nshots:\n  - id: a\n    prompt: ${value}\n`;
    expect(errors(text)).toEqual([`${said} | quote the value: prompt: "${value}"`]);
  });

  it('names a duplicate key and both of its places', () => {
    const text = 'version: 1\nname: demo\nshots:\n  - id: a\n    prompt: one\n    prompt: two\n';
    expect(errors(text)).toEqual([
      '6:5 duplicate key "prompt" at line 6:5: it is already set at line 5:5 | keep one "prompt" (YAML would silently use the last one)',
    ]);
  });

  it('says tabs in the indentation once, with nothing cascading after them', () => {
    const one =
      'version: 1\nname: demo\nshots:\n  - id: a\n    prompt: one\n\tduration: 5\n    ratio: "16:9"\n  - id: b\n    prompt: two\n';
    expect(errors(one)).toEqual([
      '6:1 line 6 is indented with a tab; YAML indents with spaces only | replace the tab with spaces',
    ]);
    const many = 'version: 1\nname: demo\nshots:\n\t- id: a\n\t  prompt: one\n';
    expect(errors(many)).toEqual([
      '4:1 lines 4, 5 are indented with a tab; YAML indents with spaces only | replace the tabs with spaces',
    ]);
  });
});

describe('stitch rules', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const shots = `shots:
  - id: a
    prompt: one
    duration: 4
    trim: { end: 6 }
  - id: b
    prompt: two
    duration: 4
    trim: { start: 3 }
`;

  it('refuses a trim past the clip, a transition longer than a clip and a missing soundtrack, at their lines', () => {
    const text = `version: 1\nname: demo\n${shots}stitch:\n  transition: { type: fade, duration: 2 }\n  soundtrack: { file: missing.m4a }\n`;
    expect(errors(text, { dir })).toEqual([
      '7:18 trim.end 6 is past the end of shot a, which lasts 4 s (duration: 4) | keep trim.end <= 4, or set duration: 6 on shot a',
      '13:39 the fade transition after shot a takes 2 s, but clip b lasts 1 s after its trim | shorten the transition to at most 1 s, trim less of b, or use type: cut',
      `14:23 soundtrack file "missing.m4a" does not exist (looked for ${path.join(dir, 'missing.m4a')}) | check the path; a relative path is read from the manifest's folder (${dir})`,
    ]);
  });

  it('accepts trims and transitions that fit, and a soundtrack inside the folder', () => {
    writeFileSync(path.join(dir, 'song.m4a'), 'x');
    const text = `version: 1\nname: demo\nshots:\n  - { id: a, prompt: one, duration: 4, trim: { end: 4 } }\n  - { id: b, prompt: two, duration: 4, trim: { start: 2 } }\nstitch:\n  transition: { type: fade, duration: 1 }\n  soundtrack: { file: song.m4a }\n`;
    expect(errors(text, { dir })).toEqual([]);
  });
});

describe('local files outside the manifest’s folder', () => {
  let root: string;
  let cleanup: () => void;
  let project: string;
  beforeEach(() => {
    ({ dir: root, cleanup } = tempDir());
    project = path.join(root, 'project');
    mkdirSync(path.join(project, 'music'), { recursive: true });
    writeFileSync(path.join(root, 'private.m4a'), 'secret');
    writeFileSync(path.join(project, 'music', 'ok.m4a'), 'x');
    symlinkSync(path.join(root, 'private.m4a'), path.join(project, 'music', 'link.m4a'));
  });
  afterEach(() => cleanup());

  const manifest = (file: string) =>
    `version: 1\nname: demo\nshots:\n  - { id: a, prompt: one }\nstitch:\n  soundtrack: { file: ${JSON.stringify(file)} }\n`;

  async function load(file: string, allowOutside = false) {
    writeFileSync(path.join(project, 'm.yaml'), manifest(file));
    return loadManifest('m.yaml', { cwd: project, allowOutside });
  }

  it.each([
    ['a path that climbs out', '../private.m4a', ''],
    ['an absolute path', 'ABS', ''],
    ['a symlink that leaves the folder', 'music/link.m4a', ' (it resolves to'],
  ])('refuses %s unless --allow-outside is given', async (_, ref, via) => {
    const file = ref === 'ABS' ? path.join(root, 'private.m4a') : ref;
    const error = await load(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    const [d] = (error as ManifestError).diagnostics;
    expect(d).toMatchObject({ file: 'm.yaml', line: 6, path: '/stitch/soundtrack/file' });
    expect(d?.message).toContain(`soundtrack file "${file}" is outside the manifest's folder`);
    expect(d?.message).toContain(via);
    expect(d?.fix).toContain('--allow-outside');
    await expect(load(file, true)).resolves.toMatchObject({ dir: project });
  });

  it('reads a soundtrack inside the folder tree without the flag', async () => {
    await expect(load('music/ok.m4a')).resolves.toMatchObject({ dir: project });
  });
});
