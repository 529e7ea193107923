import { describe, expect, it } from 'vitest';
import { IndexManifest } from '../../schemas/manifest.js';

const sha = 'a'.repeat(64);
const valid = {
  indexId: 'cifar10-demo',
  version: 3,
  model: { id: 'hybridhash-s-64', checksum: sha },
  bits: 64,
  count: 150,
  shards: [
    { key: 'indexes/cifar10-demo/v3/00000.ehct', count: 100, bytes: 900, checksum: sha },
    { key: 'indexes/cifar10-demo/v3/00001.ehct', count: 50, bytes: 500, checksum: sha },
  ],
  created: '2026-11-24T02:00:00Z',
};

describe('IndexManifest', () => {
  it('accepts a consistent manifest', () => {
    expect(IndexManifest.parse(valid)).toEqual({
      ...valid,
      shards: valid.shards.map((s) => ({ ...s, store: 'r2' })),
      tombstones: [],
    });
  });
  it.each([
    ['count differs from the shard sum', { count: 151 }, 'count'],
    ['bits not a multiple of 8', { bits: 60 }, 'bits'],
    ['a bad checksum', { model: { id: 'm', checksum: 'XYZ' } }, 'model.checksum'],
    ['an index id with capitals', { indexId: 'Cifar' }, 'indexId'],
    ['a date that is not ISO', { created: 'yesterday' }, 'created'],
    ['duplicate shard keys', { shards: [valid.shards[0], valid.shards[0]], count: 200 }, 'shards'],
  ])('rejects %s', (_, change, path) => {
    const result = IndexManifest.safeParse({ ...valid, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
