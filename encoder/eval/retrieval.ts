// Retrieval metrics with the field's reference semantics (DeepHash-pytorch CalcTopMap), ranked by
// the same wasm kernel the edge uses, with a deterministic tie rule, and mAP averaged over ties.
import { CodeTable } from '../../wasm/codeTable.js';
import { LabelSets } from './relevance.js';
import { TieAveragedAp } from './tieAveragedAp.js';

/** Packed codes (row-major, bits/8 bytes each) and their multi-hot labels. */
export interface RetrievalSet {
  codes: Uint8Array;
  labels: Uint8Array;
}

export interface RetrievalOptions {
  bits: number;
  numClasses: number;
  /** Ranking depth for mAP; -1 ranks the whole database (mAP@ALL). */
  topK: number;
  kernel: WebAssembly.Module;
  /** Points on the PR and P@N curves (default 48). */
  curvePoints?: number;
}

export interface RetrievalMetrics {
  /** mAP@topK, CalcTopMap semantics: AP of a query with no relevant item in its top K is 0. */
  map: number;
  topK: number;
  tieRule: 'distance, then ascending database index';
  /**
   * mAP@topK averaged over every order of the items tied in distance (tieAveragedAp.ts): independent
   * of the database's stored order, which the tie rule above is not.
   */
  mapTieAveraged: number;
  /** Mean over queries of precision among items within Hamming radius 2 (0 when none). */
  precisionWithinRadius2: number;
  queries: number;
  database: number;
  bits: number;
  /** Rank-based curves, averaged over queries: precision and recall at each cutoff. */
  curve: { cutoff: number[]; precision: number[]; recall: number[] };
}

// Ranked items held at once (6 bytes each): queries are ranked in chunks of RANKING_BUDGET / N.
const RANKING_BUDGET = 64 * 60_000;

function curveCutoffs(depth: number, points: number): number[] {
  const set = new Set<number>();
  for (let i = 0; i < points; i++) {
    set.add(Math.max(1, Math.round(depth ** (i / (points - 1)))));
    set.add(Math.max(1, Math.round((depth * (i + 1)) / points)));
  }
  return [...set].filter((c) => c <= depth).sort((a, b) => a - b);
}

export async function evaluateRetrieval(
  query: RetrievalSet,
  database: RetrievalSet,
  options: RetrievalOptions,
): Promise<RetrievalMetrics> {
  const { bits, numClasses, kernel } = options;
  const bpc = bits / 8;
  const nq = query.codes.length / bpc;
  const n = database.codes.length / bpc;
  if (!Number.isInteger(nq) || !Number.isInteger(n)) throw new RangeError(`codes are not a multiple of ${bpc} bytes`);
  if (query.labels.length !== nq * numClasses || database.labels.length !== n * numClasses) {
    throw new RangeError('labels do not match the number of codes and classes');
  }
  const depth = options.topK < 0 ? n : Math.min(options.topK, n);
  const table = await CodeTable.fromCodes(kernel, database.codes, bits);
  const dbLabels = new LabelSets(database.labels, numClasses);
  const qLabels = new LabelSets(query.labels, numClasses);
  const cutoffs = curveCutoffs(Math.max(depth, 1), options.curvePoints ?? 48);
  const precisionSum = new Float64Array(cutoffs.length);
  const recallSum = new Float64Array(cutoffs.length);
  const hitsAtCutoff = new Float64Array(cutoffs.length);
  const tieAveraged = new TieAveragedAp(n);
  // Items and relevant items at each Hamming distance 0..bits: the ranking's tie groups.
  const groupSizes = new Int32Array(bits + 1);
  const groupHits = new Int32Array(bits + 1);
  const queryChunk = Math.max(1, Math.floor(RANKING_BUDGET / Math.max(n, 1)));
  let apSum = 0;
  let tieAveragedApSum = 0;
  let radiusPrecisionSum = 0;

  for (let q0 = 0; q0 < nq; q0 += queryChunk) {
    const q1 = Math.min(nq, q0 + queryChunk);
    // The whole database is ranked even for mAP@K: the tie-averaged AP needs the tie group at the cut.
    const ranked = table.searchBatch(query.codes.subarray(q0 * bpc, q1 * bpc), n);
    for (let q = q0; q < q1; q++) {
      const { ids, distances } = ranked[q - q0];
      const labels = qLabels.row(q);
      groupSizes.fill(0);
      groupHits.fill(0);
      let hits = 0;
      let ap = 0;
      let c = 0;
      for (let r = 0; r < n; r++) {
        const d = distances[r];
        groupSizes[d]++;
        if (!dbLabels.shares(labels, ids[r])) continue;
        groupHits[d]++;
        if (r < depth) {
          hits++;
          ap += hits / (r + 1);
          while (c < cutoffs.length && cutoffs[c] <= r) hitsAtCutoff[c++] = hits - 1;
        }
      }
      while (c < cutoffs.length) hitsAtCutoff[c++] = hits;
      let totalRelevant = 0;
      for (let d = 0; d <= bits; d++) totalRelevant += groupHits[d];
      for (let i = 0; i < cutoffs.length; i++) {
        precisionSum[i] += hitsAtCutoff[i] / cutoffs[i];
        if (totalRelevant > 0) recallSum[i] += hitsAtCutoff[i] / totalRelevant;
      }
      apSum += hits > 0 ? ap / hits : 0;
      tieAveragedApSum += tieAveraged.ap(groupSizes, groupHits, depth);
      const inBall = groupSizes[0] + groupSizes[1] + groupSizes[2];
      if (inBall > 0) radiusPrecisionSum += (groupHits[0] + groupHits[1] + groupHits[2]) / inBall;
    }
  }
  return {
    map: nq > 0 ? apSum / nq : 0,
    mapTieAveraged: nq > 0 ? tieAveragedApSum / nq : 0,
    topK: options.topK,
    tieRule: 'distance, then ascending database index',
    precisionWithinRadius2: nq > 0 ? radiusPrecisionSum / nq : 0,
    queries: nq,
    database: n,
    bits,
    curve: {
      cutoff: cutoffs,
      precision: Array.from(precisionSum, (s) => s / nq),
      recall: Array.from(recallSum, (s) => s / nq),
    },
  };
}
