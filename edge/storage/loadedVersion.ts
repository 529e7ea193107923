// One index version held in isolate memory: its manifest, its shards as kernel tables, and (loaded
// on first use) each shard's metadata. Immutable once built, so a request that holds it sees one
// version from start to end whatever the pointer does meanwhile.
import type { ItemMetadata } from '../../schemas/item.js';
import type { IndexManifest, ShardEntry } from '../../schemas/manifest.js';
import type { CodeTable } from '../../wasm/codeTable.js';
import { type KeepAlive, SharedLoads } from './keepAlive.js';
import type { MetadataLines } from './metadataLines.js';

export interface LoadedShard {
  entry: ShardEntry;
  table: CodeTable;
}

export interface ItemLocation {
  shard: number;
  position: number;
}

export type MetadataLoader = (entry: ShardEntry) => Promise<MetadataLines | null>;

export class LoadedVersion {
  readonly tombstones: ReadonlySet<number>;
  private readonly metadata = new SharedLoads<number, MetadataLines | null>();

  constructor(
    readonly manifest: IndexManifest,
    readonly shards: readonly LoadedShard[],
    private readonly loadMetadata: MetadataLoader,
  ) {
    this.tombstones = new Set(manifest.tombstones);
  }

  get version(): number {
    return this.manifest.version;
  }

  get bits(): number {
    return this.manifest.bits;
  }

  /** Isolate memory this version holds now (tables, and metadata loaded so far). */
  get memoryBytes(): number {
    let bytes = 0;
    for (const shard of this.shards) bytes += shard.table.memoryBytes;
    for (const lines of this.metadata.loaded()) bytes += lines?.memoryBytes ?? 0;
    return bytes;
  }

  /** Where item `id` sits, or null when no shard has it or it is tombstoned. */
  locate(id: number): ItemLocation | null {
    if (this.tombstones.has(id)) return null;
    for (let shard = 0; shard < this.shards.length; shard++) {
      const { table } = this.shards[shard];
      let lo = 0;
      let hi = table.count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const at = table.idAt(mid);
        if (at === id) return { shard, position: mid };
        if (at < id) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return null;
  }

  /** The stored code of an item, read from its shard's table without unpacking the rest. */
  code(location: ItemLocation): Uint8Array {
    return this.shards[location.shard].table.codeAt(location.position);
  }

  /** Metadata of the items at these locations; items without metadata are absent from the map. */
  async metadataOf(locations: readonly ItemLocation[], keepAlive: KeepAlive): Promise<Map<ItemLocation, ItemMetadata>> {
    const found = new Map<ItemLocation, ItemMetadata>();
    for (const location of locations) {
      const lines = await this.shardMetadata(location.shard, keepAlive);
      const item = lines?.at(location.position);
      if (item) found.set(location, item);
    }
    return found;
  }

  private shardMetadata(shard: number, keepAlive: KeepAlive): Promise<MetadataLines | null> {
    const entry = this.shards[shard].entry;
    return this.metadata.get(shard, async () => (entry.metadata ? this.loadMetadata(entry) : null), keepAlive);
  }
}
