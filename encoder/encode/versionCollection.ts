// The items of a published version as a collection, for re-encoding: ids, sources, labels and
// thumbnails from its metadata (tombstoned ids left out), images found through the original source.
import type { IndexManifest } from '../../schemas/manifest.js';
import { openResolver } from '../collection/spec.js';
import { type Collection, CollectionError, type CollectionItem } from '../collection/types.js';
import type { IndexStores } from '../publish/store.js';
import { readManifest } from '../publish/versions.js';
import type { VersionSource } from './job.js';

export async function versionCollection(stores: IndexStores, source: VersionSource): Promise<Collection> {
  const manifest: IndexManifest = await readManifest(stores, source.indexId, source.version);
  const resolve = await openResolver(source.collection);
  const dead = new Set(manifest.tombstones);
  // Shards by id range, so ids ascend through the collection.
  const shards = [...manifest.shards].sort((a, b) => (a.ids?.first ?? 0) - (b.ids?.first ?? 0));
  const missing = shards.find((s) => s.metadata === undefined);
  if (missing) throw new CollectionError(`${missing.key} has no item metadata; its images cannot be found again`);
  const liveIn = (s: (typeof shards)[number]) =>
    s.count - manifest.tombstones.filter((id) => s.ids && id >= s.ids.first && id <= s.ids.last).length;
  return {
    description: `index ${source.indexId} version ${source.version}`,
    size: manifest.count - dead.size,
    async *items(start) {
      let position = 0;
      for (const shard of shards) {
        const live = liveIn(shard);
        if (position + live <= start) {
          position += live;
          continue;
        }
        const bytes = await stores.r2.get(shard.metadata!.key);
        if (bytes === null) throw new CollectionError(`r2:${shard.metadata!.key} is missing`);
        for (const line of new TextDecoder().decode(bytes).split('\n')) {
          if (line === '') continue;
          const meta = JSON.parse(line) as { id: number; source?: string; labels?: string[]; thumbnail?: string };
          if (dead.has(meta.id)) continue;
          if (position++ < start) continue;
          if (meta.source === undefined) throw new CollectionError(`item ${meta.id} has no source to re-encode from`);
          const item: CollectionItem = {
            id: meta.id,
            source: meta.source,
            labels: meta.labels,
            thumbnail: meta.thumbnail,
            load: resolve(meta.source),
          };
          yield item;
        }
      }
    },
  };
}
