/**
 * The pipeline takes the command line's values parsed, never as text to parse again: the
 * listen address, the team URL and the shard are typed, and a string is refused by the types.
 */
import { expectTypeOf, it } from 'vitest';
import type { RunConfig, WorkerConfig } from '../../src/cli/config.js';
import type { ShardSpec } from '../../src/pipeline/shard.js';
import type { RunOptions } from '../../src/pipeline/types.js';
import { startReceiver, type ListenAddress } from '../../src/render/receiver.js';

it('RunOptions carries parsed values', () => {
  expectTypeOf<RunOptions['listen']>().toEqualTypeOf<ListenAddress | undefined>();
  expectTypeOf<RunOptions['team']>().toEqualTypeOf<URL | undefined>();
  expectTypeOf<RunOptions['shard']>().toEqualTypeOf<ShardSpec | undefined>();
  expectTypeOf<RunConfig['options']>().toMatchTypeOf<RunOptions>();
  expectTypeOf<WorkerConfig['team']>().toEqualTypeOf<URL>();
});

it('a listen address or team URL as text does not type-check', () => {
  // @ts-expect-error -- `--listen` is parsed once, by the command line
  const listen: RunOptions = { listen: '127.0.0.1:8787' };
  // @ts-expect-error -- `--team` is parsed once, by the command line
  const team: RunOptions = { team: 'redis://127.0.0.1:6379/0' };
  // @ts-expect-error -- the receiver starts on an address, not on text
  void startReceiver('127.0.0.1:0', undefined, 'http://127.0.0.1:1');
  void [listen, team];
});
