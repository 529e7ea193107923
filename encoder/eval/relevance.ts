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

  /** Whether item i shares a label with `query` (packed label words, e.g. another set's row). */
  shares(query: Uint32Array, i: number): boolean {
    const { words, bits } = this;
    if (words === 1) return (bits[i] & query[0]) !== 0;
    const at = i * words;
    for (let w = 0; w < words; w++) if (bits[at + w] & query[w]) return true;
    return false;
  }
}
