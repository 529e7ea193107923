// Everything a request needs that outlives it, built once per isolate from the env bindings: the
// store reader, the pointer cache, the version cache, the models, the merger and the rate limiter.
import type { IndexManifest } from '../schemas/manifest.js';
import { DEFAULT_INDEX_ID } from '../schemas/storage.js';
import { ResultMerger } from '../wasm/codeTable.js';
import { type EdgeSettings, readSettings, type WorkerEnv } from './env.js';
import { ApiError } from './errors.js';
import { ModelStore } from './hashing/modelStore.js';
import { TokenBuckets } from './middleware/tokenBuckets.js';
import { IndexReader, IndexStoreError } from './storage/indexReader.js';
import { type KeepAlive, noKeepAlive, SharedLoad, SharedLoads } from './storage/keepAlive.js';
import type { LoadedVersion } from './storage/loadedVersion.js';
import { PointerCache } from './storage/pointerCache.js';
import { VersionCache } from './storage/versionCache.js';
import { loadVersion } from './storage/versionLoader.js';

/** The compiled wasm modules the worker imports (workerd cannot compile wasm at run time). */
export interface WasmModules {
  kernel: WebAssembly.Module;
  ort: WebAssembly.Module;
}

export class EdgeServices {
  readonly settings: EdgeSettings;
  readonly reader: IndexReader;
  readonly pointer: PointerCache;
  readonly versions: VersionCache;
  readonly models: ModelStore;
  readonly rateLimiter: TokenBuckets;
  private merger: SharedLoad<ResultMerger> | undefined;
  // Manifests are immutable: a version's is read once (a few KB each; unknown versions are not kept).
  private readonly manifests = new SharedLoads<number, IndexManifest | null>({ keep: (found) => found !== null });

  constructor(
    env: WorkerEnv,
    private readonly wasm: WasmModules,
  ) {
    this.settings = readSettings(env, DEFAULT_INDEX_ID);
    this.reader = new IndexReader(env.EDGEHASH_KV, env.EDGEHASH_R2, this.settings.indexId);
    this.pointer = new PointerCache(this.reader, this.settings.pointerTtlMs);
    this.versions = new VersionCache(this.settings.cacheBudgetBytes, (version) => this.loadVersion(version));
    this.models = new ModelStore(this.reader, wasm.ort);
    this.rateLimiter = new TokenBuckets(this.settings.rateLimitPerMinute);
  }

  resultMerger(): Promise<ResultMerger> {
    this.merger ??= new SharedLoad(() => ResultMerger.create(this.wasm.kernel), noKeepAlive);
    return this.merger.get();
  }

  /** The version number a request reads: the one it names, else the active one. */
  async versionNumber(requested: number | undefined, keepAlive: KeepAlive): Promise<number> {
    if (requested !== undefined) return requested;
    const pointer = await this.pointer.get(keepAlive);
    if (!pointer) {
      throw new ApiError('no_active_index', `index "${this.settings.indexId}" has no active version; publish one`);
    }
    return pointer.version;
  }

  /** The loaded version a request pins for its whole duration. */
  async version(requested: number | undefined, keepAlive: KeepAlive): Promise<LoadedVersion> {
    return this.versions.get(await this.versionNumber(requested, keepAlive), keepAlive);
  }

  /** A version's manifest, or null when the index has no such version. */
  manifest(version: number, keepAlive: KeepAlive): Promise<IndexManifest | null> {
    return this.manifests.get(version, () => this.reader.manifest(version), keepAlive);
  }

  /**
   * The manifest a request reads, without loading the version's tables. One named by the request that
   * is neither active nor the one it replaced may have been deleted by retention since this isolate
   * cached it: the store is asked again (one KV read), so it is unknown here as on a fresh isolate.
   */
  async requireManifest(requested: number | undefined, keepAlive: KeepAlive): Promise<IndexManifest> {
    const version = await this.versionNumber(requested, keepAlive);
    let manifest = await this.manifest(version, keepAlive);
    if (manifest && requested !== undefined && !(await this.isLive(version, keepAlive))) {
      if (!(await this.stillStored(version))) manifest = null;
    }
    if (!manifest) throw this.unknownVersion(version);
    return manifest;
  }

  /** Whether the store still holds `version`'s manifest; one it no longer does is forgotten here too. */
  private async stillStored(version: number): Promise<boolean> {
    if ((await this.reader.manifest(version)) !== null) return true;
    this.manifests.forget(version);
    return false;
  }

  private unknownVersion(version: number): ApiError {
    return new ApiError('unknown_version', `index "${this.settings.indexId}" has no version ${version}`);
  }

  /** Whether retention keeps `version` whatever its count: the active version or the one it replaced. */
  private async isLive(version: number, keepAlive: KeepAlive): Promise<boolean> {
    const pointer = await this.pointer.get(keepAlive);
    return pointer?.version === version || pointer?.previous === version;
  }

  /**
   * Starts loading what a search of `version` needs (its tables, its model's onnxruntime-web session,
   * the merger) in the background, through the same shared loads a search awaits: a search arriving
   * meanwhile waits for these loads instead of starting its own. True when all of it is in memory.
   */
  warm(version: number, keepAlive: KeepAlive): boolean {
    const loaded = this.versions.peek(version);
    if (loaded && this.models.ready(loaded.manifest) && this.merger?.loaded) return true;
    // Nobody waits for a warm-up: a failure is logged, and the next search retries the load and reports it.
    const failed = (error: unknown) =>
      console.error(
        `edgehash: warm-up of version ${version} failed: ${error instanceof Error ? error.message : error}`,
      );
    keepAlive(this.prepare(version, keepAlive).catch(failed));
    return false;
  }

  private async prepare(version: number, keepAlive: KeepAlive): Promise<void> {
    const manifest = await this.manifest(version, keepAlive);
    if (!manifest) return;
    // Tables and model load side by side; a search loads them one after the other.
    await Promise.all([
      this.versions.get(version, keepAlive),
      this.models.hasher(manifest, keepAlive),
      this.resultMerger(),
    ]);
  }

  // Runs inside a load the version cache already keeps alive.
  private async loadVersion(version: number): Promise<LoadedVersion> {
    const manifest = await this.requireManifest(version, noKeepAlive);
    let loaded: LoadedVersion;
    try {
      loaded = await loadVersion(this.reader, this.wasm.kernel, manifest);
    } catch (error) {
      // Retention may have deleted the version since this isolate read its manifest: then it is gone,
      // as it is for an isolate that never read it, not a store failure.
      if (error instanceof IndexStoreError && !(await this.stillStored(version))) throw this.unknownVersion(version);
      throw error;
    }
    console.log(`edgehash: version ${version} loaded (${loaded.shards.length} shards)`);
    return loaded;
  }
}
