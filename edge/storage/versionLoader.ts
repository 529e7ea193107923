// Builds a LoadedVersion from the stores: every shard is read from R2 or KV, its whole-file SHA-256
// checked against the manifest, and loaded by CodeTable.load (which validates the format and the
// trailer checksum). A defect anywhere fails the whole version: nothing half-loaded is served.
import type { IndexManifest, ShardEntry } from '../../schemas/manifest.js';
import { CodeTable, CodeTableError, sha256 } from '../../wasm/codeTable.js';
import { toHex } from '../bytes.js';
import { type IndexReader, IndexStoreError } from './indexReader.js';
import { LoadedVersion } from './loadedVersion.js';
import { MetadataLines } from './metadataLines.js';

export async function verifiedBytes(
  reader: IndexReader,
  store: 'kv' | 'r2',
  key: string,
  checksum: string,
): Promise<Uint8Array> {
  const bytes = await reader.bytes(store, key);
  const actual = toHex(await sha256(bytes));
  if (actual !== checksum)
    throw new IndexStoreError(`${store}:${key}: SHA-256 ${actual}, the manifest says ${checksum}`);
  return bytes;
}

async function loadShard(reader: IndexReader, kernel: WebAssembly.Module, entry: ShardEntry, bits: number) {
  const bytes = await verifiedBytes(reader, entry.store, entry.key, entry.checksum);
  try {
    const table = await CodeTable.load(kernel, bytes, entry.key);
    if (table.count !== entry.count || table.bits !== bits) {
      throw new IndexStoreError(
        `${entry.key}: ${table.count} x ${table.bits}-bit codes, the manifest says ${entry.count} x ${bits}`,
      );
    }
    return { entry, table };
  } catch (error) {
    if (error instanceof CodeTableError) throw new IndexStoreError(error.message);
    throw error;
  }
}

export async function loadVersion(
  reader: IndexReader,
  kernel: WebAssembly.Module,
  manifest: IndexManifest,
): Promise<LoadedVersion> {
  const shards = [];
  // One shard at a time: peak memory is the loaded tables plus one shard file, not every file at once.
  for (const entry of manifest.shards) shards.push(await loadShard(reader, kernel, entry, manifest.bits));
  return new LoadedVersion(manifest, shards, async (entry) => {
    if (!entry.metadata) return null;
    const { key, checksum } = entry.metadata;
    return MetadataLines.parse(await verifiedBytes(reader, 'r2', key, checksum));
  });
}
