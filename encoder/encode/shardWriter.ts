// One shard being filled: codes, ids and metadata lines in fixed-size buffers, thumbnails streamed to a
// temporary folder; `finish` writes the code table and metadata atomically and renames the thumbnails.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ItemMetadata } from '../../schemas/item.js';
import { CodeTable } from '../../wasm/codeTable.js';
import { loadKernelModule } from '../../wasm/nodeModule.js';
import { writeFileAtomic } from '../export/files.js';
import { sha256Hex } from '../export/modelCard.js';
import type { JobShard } from './job.js';

export const shardName = (index: number) => String(index).padStart(6, '0');

export class ShardWriter {
  private readonly codes: Uint8Array;
  private readonly ids: Uint32Array;
  private readonly lines: string[] = [];
  private count = 0;
  skipped = 0;
  private readonly thumbnailTemp: string;

  constructor(
    private readonly dir: string,
    readonly index: number,
    /** Collection position of the shard's first item. */
    readonly start: number,
    capacity: number,
    private readonly bits: number,
    private readonly thumbnails: boolean,
  ) {
    this.codes = new Uint8Array(capacity * (bits / 8));
    this.ids = new Uint32Array(capacity);
    this.thumbnailTemp = path.join(dir, 'thumbnails', `${shardName(index)}.tmp-${process.pid}`);
  }

  async open(): Promise<void> {
    if (this.thumbnails) await mkdir(this.thumbnailTemp, { recursive: true });
  }

  /** Adds one item; its id must be greater than the previous one's. */
  async add(code: Uint8Array, metadata: ItemMetadata, thumbnail?: Uint8Array): Promise<void> {
    if (this.count > 0 && metadata.id <= this.ids[this.count - 1]) {
      throw new Error(`item ids must ascend within a shard: ${metadata.id} after ${this.ids[this.count - 1]}`);
    }
    this.codes.set(code, this.count * code.length);
    this.ids[this.count] = metadata.id;
    this.lines.push(JSON.stringify(metadata));
    this.count++;
    if (thumbnail) await writeFile(path.join(this.thumbnailTemp, `${metadata.id}.jpg`), thumbnail);
  }

  /** Writes the shard's files (each whole or not at all) and returns its record for the job file. */
  async finish(items: number): Promise<JobShard> {
    const name = shardName(this.index);
    const bpc = this.bits / 8;
    const table = await CodeTable.fromCodes(
      await loadKernelModule(),
      this.codes.subarray(0, this.count * bpc),
      this.bits,
      this.ids.slice(0, this.count),
    );
    const bytes = await table.serialize();
    const tableFile = `shards/${name}.ehct`;
    const metadataFile = `shards/${name}.jsonl`;
    await mkdir(path.join(this.dir, 'shards'), { recursive: true });
    await writeFileAtomic(path.join(this.dir, tableFile), bytes);
    await writeFileAtomic(path.join(this.dir, metadataFile), this.lines.map((l) => `${l}\n`).join(''));
    let thumbnails: string | undefined;
    if (this.thumbnails) {
      thumbnails = `thumbnails/${name}`;
      const target = path.join(this.dir, thumbnails);
      if (existsSync(target)) await rm(target, { recursive: true });
      await rename(this.thumbnailTemp, target);
    }
    return {
      index: this.index,
      table: tableFile,
      metadata: metadataFile,
      thumbnails,
      count: this.count,
      start: this.start,
      items,
      skipped: this.skipped,
      checksum: sha256Hex(bytes),
    };
  }
}
