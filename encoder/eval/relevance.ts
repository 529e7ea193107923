// Which database items are relevant to a query: they share at least one label (methods.md). Labels
// are packed into 32-bit words per item so the test is a few ANDs however many classes there are.

export class LabelSets {
  readonly words: number;
  private readonly bits: Uint32Array;

  /** `labels`: count * numClasses multi-hot bytes (single-label data is one-hot). */
  constructor(
    labels: Uint8Array,
    readonly numClasses: number,
  ) {
    this.words = Math.ceil(numClasses / 32);
    const count = labels.length / numClasses;
    this.bits = new Uint32Array(count * this.words);
    for (let i = 0; i < count; i++) {
      for (let c = 0; c < numClasses; c++) {
        if (labels[i * numClasses + c]) this.bits[i * this.words + (c >>> 5)] |= 1 << (c & 31);
      }
    }
  }

  get count(): number {
    return this.bits.length / this.words;
  }

  /** The packed label words of item i (a view). */
  row(i: number): Uint32Array {
    return this.bits.subarray(i * this.words, (i + 1) * this.words);
  }

  /** Relevance of each ranked database item to `query`: 1 when they share a label. */
  relevance(query: Uint32Array, ranked: ArrayLike<number>, out: Uint8Array): void {
    const { words, bits } = this;
    if (words === 1) {
      const q = query[0];
      for (let r = 0; r < ranked.length; r++) out[r] = (bits[ranked[r]] & q) !== 0 ? 1 : 0;
      return;
    }
    for (let r = 0; r < ranked.length; r++) {
      const at = ranked[r] * words;
      let hit = 0;
      for (let w = 0; w < words && !hit; w++) hit = bits[at + w] & query[w];
      out[r] = hit ? 1 : 0;
    }
  }
}
