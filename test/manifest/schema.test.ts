import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes } from '../../scripts/gen-types.mjs';
import { manifestSchema } from '../../src/manifest/schema.js';
import { MODEL_IDS, MODES, RATIOS, SIZES } from '../../src/models.js';

type Node = Record<string, unknown>;

function walk(node: unknown, path: string, visit: (node: Node, path: string) => void): void {
  if (!node || typeof node !== 'object') return;
  visit(node as Node, path);
  for (const [key, child] of Object.entries(node as Node)) {
    if (key === 'enum' || key === 'required') continue;
    walk(child, `${path}/${key}`, visit);
  }
}

describe('the JSON Schema', () => {
  it('is the source of the TypeScript types: the committed types are what it generates', async () => {
    const committed = readFileSync(
      new URL('../../src/manifest/types.gen.ts', import.meta.url),
      'utf8',
    );
    expect(await generateTypes()).toBe(committed);
  });

  it('describes every field, so editors show help', () => {
    const missing: string[] = [];
    walk(manifestSchema, '#', (node, path) => {
      const props = node.properties as Node | undefined;
      for (const [name, child] of Object.entries(props ?? {})) {
        const c = child as Node;
        if (!c.description && !(typeof c.$ref === 'string' && c.$ref.startsWith('#/$defs/'))) {
          missing.push(`${path}/properties/${name}`);
        }
      }
    });
    expect(missing).toEqual([]);
  });

  it('agrees with the model table on models, sizes, ratios and modes', () => {
    const defs = manifestSchema.$defs as Record<string, Node>;
    const settings = defs.shotSettings!.properties as Record<string, Node>;
    expect(defs.model!.enum).toEqual(MODEL_IDS);
    expect(settings.size!.enum).toEqual([...SIZES]);
    expect(settings.ratio!.enum).toEqual([...RATIOS]);
    expect(settings.mode!.enum).toEqual([...MODES]);
  });
});

describe('the schema and the stitcher', () => {
  it('offer the same transitions', async () => {
    const { TRANSITION_TYPES } = await import('../../src/media/stitch-plan.js');
    const defs = manifestSchema.$defs as Record<string, Node>;
    const transition = (defs.transition!.properties as Record<string, Node>).type!;
    expect(transition.enum).toEqual([...TRANSITION_TYPES]);
  });
});
