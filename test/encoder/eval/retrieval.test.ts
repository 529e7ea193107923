import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRetrieval } from '../../../encoder/eval/retrieval.js';
import { loadKernelModule } from '../../../wasm/nodeModule.js';
import { randomBytes, rng } from '../../support/random.js';
import { hamming } from '../../support/referenceRanker.js';

let kernel: WebAssembly.Module;
beforeAll(async () => {
  kernel = await loadKernelModule();
});

/** CalcTopMap (DeepHash-pytorch) with a stable sort, i.e. ties by ascending database index. */
function referenceMap(
  qCodes: Uint8Array,
  dbCodes: Uint8Array,
  qLabels: Uint8Array,
  dbLabels: Uint8Array,
  bpc: number,
  classes: number,
  topK: number,
) {
  const nq = qCodes.length / bpc;
  const n = dbCodes.length / bpc;
  let sum = 0;
  for (let q = 0; q < nq; q++) {
    const query = qCodes.subarray(q * bpc, (q + 1) * bpc);
    const order = Array.from({ length: n }, (_, i) => i)
      .map((i) => [hamming(dbCodes.subarray(i * bpc, (i + 1) * bpc), query), i])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .slice(0, topK < 0 ? n : topK);
    let hits = 0;
    let ap = 0;
    order.forEach(([, i], r) => {
      let shared = false;
      for (let c = 0; c < classes; c++) shared ||= qLabels[q * classes + c] === 1 && dbLabels[i * classes + c] === 1;
      if (shared) ap += ++hits / (r + 1);
    });
    sum += hits ? ap / hits : 0;
  }
  return sum / nq;
}

/** Mean over queries of precision among database items within Hamming radius 2 (0 when none). */
function referenceRadius2(
  qCodes: Uint8Array,
  dbCodes: Uint8Array,
  qLabels: Uint8Array,
  dbLabels: Uint8Array,
  bpc: number,
  classes: number,
) {
  const nq = qCodes.length / bpc;
  const n = dbCodes.length / bpc;
  let sum = 0;
  for (let q = 0; q < nq; q++) {
    let inBall = 0;
    let relevant = 0;
    for (let i = 0; i < n; i++) {
      if (hamming(dbCodes.subarray(i * bpc, (i + 1) * bpc), qCodes.subarray(q * bpc, (q + 1) * bpc)) > 2) continue;
      inBall++;
      let shared = false;
      for (let c = 0; c < classes; c++) shared ||= qLabels[q * classes + c] === 1 && dbLabels[i * classes + c] === 1;
      if (shared) relevant++;
    }
    sum += inBall ? relevant / inBall : 0;
  }
  return sum / nq;
}

function labelsFor(count: number, classes: number, seed: number, multi: boolean): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(count * classes);
  for (let i = 0; i < count; i++) {
    out[i * classes + ((next() * classes) | 0)] = 1;
    if (multi && next() < 0.5) out[i * classes + ((next() * classes) | 0)] = 1;
  }
  return out;
}

describe('evaluateRetrieval', () => {
  it('computes a hand-worked case', async () => {
    // 8-bit codes. Query 0x00, class A. Database: 0x01 (d1, A), 0x03 (d2, B), 0x00 (d0, B), 0x07 (d3, A).
    // Ranking: idx2 (B), idx0 (A), idx1 (B), idx3 (A) -> AP = (1/2 + 2/4) / 2 = 0.5.
    const metrics = await evaluateRetrieval(
      { codes: Uint8Array.of(0x00), labels: Uint8Array.of(1, 0) },
      { codes: Uint8Array.of(0x01, 0x03, 0x00, 0x07), labels: Uint8Array.of(1, 0, 0, 1, 0, 1, 1, 0) },
      { bits: 8, numClasses: 2, topK: -1, kernel },
    );
    expect(metrics.map).toBeCloseTo(0.5, 12);
    expect(metrics.mapTieAveraged).toBeCloseTo(0.5, 12); // no ties
    // Within radius 2: idx2, idx0, idx1 -> one relevant of three.
    expect(metrics.precisionWithinRadius2).toBeCloseTo(1 / 3, 12);
    expect(metrics.curve.precision[0]).toBe(0);
    expect(metrics.curve.recall.at(-1)).toBe(1);
  });

  it.each([
    ['single-label, mAP@ALL', false, -1, 16],
    ['single-label, mAP@50', false, 50, 32],
    ['multi-label, mAP@100 (40 classes, two label words)', true, 100, 64],
  ])('matches CalcTopMap on random data: %s', async (_, multi, topK, bits) => {
    const classes = multi ? 40 : 10;
    const bpc = bits / 8;
    const qCodes = randomBytes(60 * bpc, 1);
    // Few distinct database codes, so there are many ties for the tie rule to decide.
    const pool = randomBytes(30 * bpc, 2);
    const pick = rng(3);
    const dbCodes = new Uint8Array(700 * bpc);
    for (let i = 0; i < 700; i++) dbCodes.set(pool.subarray(((pick() * 30) | 0) * bpc).subarray(0, bpc), i * bpc);
    const qLabels = labelsFor(60, classes, 4, multi);
    const dbLabels = labelsFor(700, classes, 5, multi);
    const metrics = await evaluateRetrieval(
      { codes: qCodes, labels: qLabels },
      { codes: dbCodes, labels: dbLabels },
      { bits, numClasses: classes, topK, kernel },
    );
    expect(metrics.map).toBeCloseTo(referenceMap(qCodes, dbCodes, qLabels, dbLabels, bpc, classes, topK), 10);
    expect(metrics.precisionWithinRadius2).toBeCloseTo(
      referenceRadius2(qCodes, dbCodes, qLabels, dbLabels, bpc, classes),
      10,
    );
    const { precision, recall } = metrics.curve;
    for (let i = 1; i < recall.length; i++) expect(recall[i]).toBeGreaterThanOrEqual(recall[i - 1] - 1e-12);
    expect(precision.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('counts the whole radius-2 ball when the top K lies entirely inside it', async () => {
    // 8-bit codes; 6 database copies of the query (distance 0), top 3 only: the ball is larger
    // than the ranking, so precision must come from all 6 (4 relevant), not the first 3.
    const dbCodes = Uint8Array.of(0, 0, 0, 0, 0, 0, 0xff);
    const dbLabels = Uint8Array.of(0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
    const metrics = await evaluateRetrieval(
      { codes: Uint8Array.of(0), labels: Uint8Array.of(1, 0) },
      { codes: dbCodes, labels: dbLabels },
      { bits: 8, numClasses: 2, topK: 3, kernel },
    );
    expect(metrics.precisionWithinRadius2).toBeCloseTo(4 / 6, 12);
    expect(metrics.map).toBeCloseTo(1 / 3 / 1, 12);
  });

  it.each([-1, 40])('gives a tie-averaged mAP (topK %i) that the stored database order does not move', async (topK) => {
    const bpc = 2;
    const pool = randomBytes(12 * bpc, 6);
    const pick = rng(7);
    const dbCodes = new Uint8Array(300 * bpc);
    for (let i = 0; i < 300; i++) dbCodes.set(pool.subarray(((pick() * 12) | 0) * bpc).subarray(0, bpc), i * bpc);
    const dbLabels = labelsFor(300, 10, 8, false);
    const order = Array.from({ length: 300 }, (_, i) => i).sort(
      (a, b) => ((a * 7919) % 300) - ((b * 7919) % 300) || a - b,
    );
    const shuffledCodes = new Uint8Array(dbCodes.length);
    const shuffledLabels = new Uint8Array(dbLabels.length);
    order.forEach((from, to) => {
      shuffledCodes.set(dbCodes.subarray(from * bpc, (from + 1) * bpc), to * bpc);
      shuffledLabels.set(dbLabels.subarray(from * 10, (from + 1) * 10), to * 10);
    });
    const query = { codes: randomBytes(20 * bpc, 9), labels: labelsFor(20, 10, 10, false) };
    const options = { bits: 16, numClasses: 10, topK, kernel };
    const stored = await evaluateRetrieval(query, { codes: dbCodes, labels: dbLabels }, options);
    const shuffled = await evaluateRetrieval(query, { codes: shuffledCodes, labels: shuffledLabels }, options);
    expect(shuffled.map).not.toBeCloseTo(stored.map, 6);
    expect(shuffled.mapTieAveraged).toBeCloseTo(stored.mapTieAveraged, 12);
  });

  it('rejects labels that do not match the codes', async () => {
    await expect(
      evaluateRetrieval(
        { codes: new Uint8Array(8), labels: new Uint8Array(3) },
        { codes: new Uint8Array(8), labels: new Uint8Array(2) },
        { bits: 64, numClasses: 2, topK: -1, kernel },
      ),
    ).rejects.toThrow(RangeError);
  });
});
