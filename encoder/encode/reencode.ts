// Re-encoding the live index with a new model: the active version's items are encoded again into a
// resumable job while that version keeps serving, then published as one complete new version and
// activated by one pointer flip.
import { DEFAULT_INDEX_ID } from '../../schemas/storage.js';
import type { SourceSpec } from '../collection/spec.js';
import { type PublishEvent, type PublishResult, publishVersion } from '../publish/publish.js';
import type { IndexStores } from '../publish/store.js';
import { PublishError, readActive, requireActive } from '../publish/versions.js';
import { type EncodeEvent, type EncodeRequest, runEncodeJob } from './encodeJob.js';
import { jobModel, jobShards, readJob, type VersionSource } from './job.js';
import { versionCollection } from './versionCollection.js';

export interface ReencodeOptions extends Omit<EncodeRequest, 'source' | 'collection' | 'firstId' | 'onProgress'> {
  indexId?: string;
  /** Where the active version's images come from (the source it was encoded from). */
  collection: SourceSpec;
  keep?: number;
  onProgress?: (event: EncodeEvent | PublishEvent) => void;
}

export async function reencode(stores: IndexStores, options: ReencodeOptions): Promise<PublishResult> {
  const indexId = options.indexId ?? DEFAULT_INDEX_ID;
  const existing = await readJob(options.dir);
  // A resumed job keeps re-encoding the version it started from.
  const version =
    existing?.source.kind === 'version'
      ? existing.source.version
      : (await requireActive(stores, indexId)).pointer.version;
  const source: VersionSource = { kind: 'version', indexId, version, collection: options.collection };
  const job = await runEncodeJob({ ...options, source, collection: await versionCollection(stores, source) });
  const active = await readActive(stores, indexId);
  const published = (checksums: string[]) =>
    checksums.join() ===
    job.shards
      .filter((s) => s.count > 0)
      .map((s) => s.checksum)
      .join();
  // The version moved on: fine only when it moved to this job's own result (a re-run after publishing).
  if (active?.pointer.version !== version && !published(active?.manifest.shards.map((s) => s.checksum) ?? [])) {
    throw new PublishError(
      `the active version moved from ${version} to ${active?.pointer.version} while re-encoding; start again with a new --out`,
    );
  }
  return publishVersion(stores, {
    indexId,
    shards: jobShards(options.dir, job),
    model: await jobModel(options.dir, job),
    keep: options.keep,
    onProgress: options.onProgress,
  });
}
