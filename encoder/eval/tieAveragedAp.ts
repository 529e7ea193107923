// Tie-averaged average precision: the expected AP of a ranking when the items at equal Hamming
// distance come in uniformly random order (McSherry & Najork, ECIR 2008), computed exactly from
// the size and relevant count of each tie group. Hash codes tie a lot (a 64-bit code has 65 possible distances for 50,000 items), so AP under
// any fixed tie rule depends on how the database happens to be stored: CIFAR's is stored class by
// class, and a model that gives every image one code scores mAP@ALL 0.19 under ascending-index ties
// against the 0.10 (relevant / all) it earns by chance, which this metric gives.
//
// Within a tie group of g items holding r relevant ones, after p ranked items of which R are
// relevant, each position j = 1..g holds a relevant item with probability r/g, and given that, the
// expected number of relevant items up to j is R + 1 + (j-1)(r-1)/(g-1). So the group adds
// (r/g) * [(R+1) * S0 + (r-1)/(g-1) * S1] to AP's numerator in expectation, with
// S0 = sum_j 1/(p+j) (a difference of harmonic numbers) and S1 = sum_j (j-1)/(p+j) = g - (p+1) S0,
// so a group costs O(1). When the depth K cuts a group, the number h of its relevant items above the
// cut is hypergeometric, and CalcTopMap divides by the relevant items in the top K (R + h), so that
// last group is summed over h exactly.

export class TieAveragedAp {
  /** logFactorial[i] = ln(i!) */
  private readonly logFactorial: Float64Array;
  /** harmonic[i] = 1 + 1/2 + ... + 1/i */
  private readonly harmonic: Float64Array;

  /** `items`: the largest database this instance will rank. */
  constructor(items: number) {
    this.logFactorial = new Float64Array(items + 1);
    this.harmonic = new Float64Array(items + 1);
    for (let i = 1; i <= items; i++) {
      this.logFactorial[i] = this.logFactorial[i - 1] + Math.log(i);
      this.harmonic[i] = this.harmonic[i - 1] + 1 / i;
    }
  }

  /**
   * Expected AP@depth (CalcTopMap semantics: the mean precision at the relevant items within the top
   * `depth`, 0 when there are none) over random orders within ties. The ranking is given as its tie
   * groups in rank order: `sizes[i]` items at the i-th distance, `hits[i]` of them relevant (a
   * Hamming ranking has one group per distance 0..bits; empty groups are skipped).
   */
  ap(sizes: ArrayLike<number>, hits: ArrayLike<number>, depth: number): number {
    let n = 0;
    for (let i = 0; i < sizes.length; i++) n += sizes[i];
    if (n >= this.logFactorial.length)
      throw new RangeError(`TieAveragedAp sized for ${this.logFactorial.length - 1} items, got ${n}`);
    const k = Math.min(depth, n);
    let p = 0;
    let relevantAbove = 0;
    let numerator = 0;
    for (let i = 0; i < sizes.length && p < k; i++) {
      const g = sizes[i];
      const r = hits[i];
      if (p + g > k) return this.cutGroupAp(p, g, r, k - p, relevantAbove, numerator);
      if (g > 0) numerator += expectedPrecisionSum(this.harmonicSums(p, g), g, r, relevantAbove);
      relevantAbove += r;
      p += g;
    }
    return relevantAbove > 0 ? numerator / relevantAbove : 0;
  }

  /** Expected AP when the cut keeps the first `kept` of a group of g items (r relevant) at rank p. */
  private cutGroupAp(p: number, g: number, r: number, kept: number, above: number, numerator: number): number {
    const sums = this.harmonicSums(p, kept);
    const logAll = this.logChoose(g, kept);
    let expected = 0;
    for (let h = Math.max(0, kept - (g - r)); h <= Math.min(r, kept); h++) {
      if (above + h === 0) continue;
      const probability = Math.exp(this.logChoose(r, h) + this.logChoose(g - r, kept - h) - logAll);
      expected += (probability * (numerator + expectedPrecisionSum(sums, kept, h, above))) / (above + h);
    }
    return expected;
  }

  /** S0 = sum_{j=1..g} 1/(p+j), S1 = sum_{j=1..g} (j-1)/(p+j). */
  private harmonicSums(p: number, g: number): { s0: number; s1: number } {
    const s0 = this.harmonic[p + g] - this.harmonic[p];
    return { s0, s1: g - (p + 1) * s0 };
  }

  private logChoose(a: number, b: number): number {
    return this.logFactorial[a] - this.logFactorial[b] - this.logFactorial[a - b];
  }
}

/**
 * Expected sum of the precisions at the relevant items of `size` tied positions holding `hits`
 * relevant items in random order, below `above` relevant ones (see the file comment).
 */
function expectedPrecisionSum(sums: { s0: number; s1: number }, size: number, hits: number, above: number): number {
  if (hits === 0) return 0;
  const pairs = size > 1 ? ((hits - 1) / (size - 1)) * sums.s1 : 0;
  return (hits / size) * ((above + 1) * sums.s0 + pairs);
}
