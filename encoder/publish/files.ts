// The files a version references, and their verification: each is read back from its store and its
// SHA-256 compared with the manifest before the version may go live.
import type { IndexManifest } from '../../schemas/manifest.js';
import { ModelCard } from '../../schemas/modelCard.js';
import { sha256Hex } from '../export/modelCard.js';
import type { BlobStore, IndexStores } from './store.js';
import { PublishError } from './versions.js';

/** One stored file of a version. `checksum` is absent only for the model card (checked by content). */
export interface FileRef {
  store: 'kv' | 'r2';
  key: string;
  checksum?: string;
  bytes?: number;
}

export function storeOf(stores: IndexStores, name: 'kv' | 'r2'): BlobStore {
  return name === 'kv' ? stores.kv : stores.r2;
}

export function manifestFiles(manifest: IndexManifest): FileRef[] {
  const files: FileRef[] = [];
  for (const shard of manifest.shards) {
    files.push({ store: shard.store, key: shard.key, checksum: shard.checksum, bytes: shard.bytes });
    if (shard.metadata) files.push({ store: 'r2', ...shard.metadata });
  }
  if (manifest.model.key) files.push({ store: 'r2', key: manifest.model.key, checksum: manifest.model.checksum });
  if (manifest.model.cardKey) files.push({ store: 'r2', key: manifest.model.cardKey });
  return files;
}

/** Reads the file back and checks it; throws a PublishError naming the key on any difference. */
export async function verifyFile(stores: IndexStores, file: FileRef, manifest: IndexManifest): Promise<void> {
  const bytes = await storeOf(stores, file.store).get(file.key);
  if (bytes === null) throw new PublishError(`${file.store}:${file.key} is missing`);
  if (file.bytes !== undefined && bytes.length !== file.bytes) {
    throw new PublishError(`${file.store}:${file.key}: ${bytes.length} bytes stored, ${file.bytes} expected`);
  }
  if (file.checksum !== undefined) {
    const actual = sha256Hex(bytes);
    if (actual !== file.checksum) {
      throw new PublishError(
        `${file.store}:${file.key}: checksum mismatch (stored ${actual}, expected ${file.checksum})`,
      );
    }
    return;
  }
  const card = ModelCard.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!card.success || card.data.onnx.checksum !== manifest.model.checksum) {
    throw new PublishError(`${file.key}: not the model card of ONNX file ${manifest.model.checksum}`);
  }
}

/** Verifies every file of the version (shards, metadata, model, card). */
export async function verifyVersion(
  stores: IndexStores,
  manifest: IndexManifest,
  onVerified?: (file: FileRef, done: number, total: number) => void,
): Promise<void> {
  const files = manifestFiles(manifest);
  for (const [i, file] of files.entries()) {
    await verifyFile(stores, file, manifest);
    onVerified?.(file, i + 1, files.length);
  }
}
