// A shard's item metadata (JSONL, one ItemMetadata per code, in position order), kept as the raw
// bytes plus line offsets: a hit's line is parsed only when it is returned, so a large shard costs
// its file size and 4 bytes per item rather than one object per item.
import { type ItemMetadata, ItemMetadata as ItemMetadataSchema } from '../../schemas/item.js';

const NEWLINE = 10;

export class MetadataLines {
  private constructor(
    private readonly bytes: Uint8Array,
    private readonly starts: Uint32Array,
  ) {}

  static parse(bytes: Uint8Array): MetadataLines {
    let lines = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === NEWLINE) lines++;
    if (bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE) lines++;
    const starts = new Uint32Array(lines + 1);
    let line = 1;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === NEWLINE) starts[line++] = i + 1;
    starts[lines] = bytes.length;
    return new MetadataLines(bytes, starts);
  }

  get count(): number {
    return this.starts.length - 1;
  }

  get memoryBytes(): number {
    return this.bytes.byteLength + this.starts.byteLength;
  }

  /** The metadata on line `position`, or undefined when the line is absent or not valid ItemMetadata. */
  at(position: number): ItemMetadata | undefined {
    if (position < 0 || position >= this.count) return undefined;
    const text = new TextDecoder().decode(this.bytes.subarray(this.starts[position], this.starts[position + 1]));
    try {
      const parsed = ItemMetadataSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
