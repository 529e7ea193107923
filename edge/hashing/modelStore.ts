// The hash models of index versions, loaded from R2 on first use and shared by every version that
// names the same model checksum. The ONNX file's SHA-256 and its card's checksum must both match the
// manifest, so a version is only ever queried with the model its codes came from.
import type { IndexManifest } from '../../schemas/manifest.js';
import { ModelCard } from '../../schemas/modelCard.js';
import { type IndexReader, IndexStoreError } from '../storage/indexReader.js';
import { type KeepAlive, noKeepAlive, SharedLoads } from '../storage/keepAlive.js';
import { verifiedBytes } from '../storage/versionLoader.js';
import { ModelHasher, ModelUnloadedError } from './modelHasher.js';
import { onnxRuntime } from './ortRuntime.js';

/** Models kept per isolate; a deployment serves one model, two while a re-encoded version rolls out. */
const MAX_MODELS = 2;

export class ModelStore {
  // A model dropped from the store releases its session once its runs in progress end.
  private readonly models = new SharedLoads<string, ModelHasher>({
    maxEntries: MAX_MODELS,
    dropped: (hasher) => hasher.retire(),
  });
  // Cards are a few hundred bytes and immutable per model checksum: read each once.
  private readonly cards = new SharedLoads<string, ModelCard | null>();

  constructor(
    private readonly reader: IndexReader,
    private readonly ortWasm: WebAssembly.Module,
  ) {}

  /** The model card of a version, or null for a code-only index. */
  card(manifest: IndexManifest, keepAlive: KeepAlive): Promise<ModelCard | null> {
    return this.cards.get(`${manifest.model.checksum}:${manifest.bits}`, () => this.readCard(manifest), keepAlive);
  }

  private async readCard(manifest: IndexManifest): Promise<ModelCard | null> {
    const { cardKey, checksum } = manifest.model;
    if (!cardKey) return null;
    const text = new TextDecoder().decode(await this.reader.bytes('r2', cardKey));
    let card: ModelCard;
    try {
      card = ModelCard.parse(JSON.parse(text));
    } catch (error) {
      throw new IndexStoreError(`${cardKey}: ${error instanceof Error ? error.message : error}`);
    }
    if (card.onnx.checksum !== checksum || card.bits !== manifest.bits) {
      throw new IndexStoreError(
        `${cardKey}: describes ${card.onnx.checksum} at ${card.bits} bits, not the manifest's model`,
      );
    }
    return card;
  }

  /** The hasher of a version's model, or null for a code-only index. */
  hasher(manifest: IndexManifest, keepAlive: KeepAlive): Promise<ModelHasher> | null {
    const { key, checksum } = manifest.model;
    if (!key) return null;
    return this.models.get(checksum, () => this.load(manifest, key), keepAlive);
  }

  /**
   * The code of model-input pixels under a version's model. A request holds a model from its fetch
   * to its run; one dropped and unloaded meanwhile (a third model needed the room) is fetched again.
   */
  async hash(manifest: IndexManifest, pixels: Uint8Array, keepAlive: KeepAlive): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      const hasher = this.hasher(manifest, keepAlive);
      if (!hasher) throw new IndexStoreError(`index version ${manifest.version} has no model`);
      try {
        return await (await hasher).hash(pixels);
      } catch (error) {
        if (!(error instanceof ModelUnloadedError) || attempt === 3) throw error;
      }
    }
  }

  /** Whether a version's model is in memory (always, for a code-only index). */
  ready(manifest: IndexManifest): boolean {
    return !manifest.model.key || this.models.peek(manifest.model.checksum) !== undefined;
  }

  // Runs inside a load the models map already keeps alive; the card is the one /v1/index shares.
  private async load(manifest: IndexManifest, key: string): Promise<ModelHasher> {
    const [card, onnx, runtime] = await Promise.all([
      this.card(manifest, noKeepAlive),
      verifiedBytes(this.reader, 'r2', key, manifest.model.checksum),
      onnxRuntime(this.ortWasm),
    ]);
    if (!card) throw new IndexStoreError(`index version ${manifest.version} has a model but no model card`);
    const hasher = await ModelHasher.create(runtime, card, onnx);
    // One line per load, so a cold start (or a load repeated by mistake) shows in the worker's logs.
    console.log(`edgehash: model ${card.modelId} (${manifest.model.checksum.slice(0, 12)}) loaded`);
    return hasher;
  }
}
