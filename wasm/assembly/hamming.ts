// Hamming ranking kernel: exact top-k, radius search and multi-shard merge over packed binary codes.
//
// Codes are stored "blocked16": blocks of 16 codes, byte j of all 16 codes contiguous, so one v128
// load holds the same byte of 16 codes and SIMD works across codes (no horizontal sums).
//
// The kernel never allocates. The caller (wasm/kernel.ts) lays out linear memory and passes
// pointers: the table, the queries, a scratch area sized by scratchBytes(), and the outputs.
// AssemblyScript's allocators double memory when they grow, which would break the rule that a
// loaded table costs its packed size and little more.
//
// Top-k selection counts per distance instead of keeping a heap. Per query we keep a limit L
// (accept a code only if its distance d < L), a histogram of accepted distances and the accepted
// candidates in scan order. Once at least k accepted codes have d <= L - 1, L drops; a code at
// distance == L that arrives later loses every tie (ids ascend with scan order), so it can never
// enter. The candidate buffer is compacted to exactly k when it fills; the final order is a
// counting sort by distance, stable, so ties break by ascending index.

const BLOCK: u32 = 16;
const STATE_BYTES: u32 = 16;

@inline function align16(x: u32): u32 {
  return (x + 15) & ~15;
}

export function heapBase(): usize {
  return __heap_base;
}

/** Bytes of scratch needed for one query of a top-k or radius pass. */
function queryScratchBytes(bytesPerCode: u32, maxDist: u32, cap: u32): u32 {
  return (
    STATE_BYTES +
    align16(bytesPerCode * 16) +
    align16((maxDist + 2) * 4) +
    align16(cap * 4) +
    align16(cap * 2)
  );
}

/** Candidate buffer capacity for a top-k pass: room for k plus slack, never more than n. */
function candidateCap(n: u32, k: u32): u32 {
  const want = k * 2 + 64;
  return want < n ? want : n;
}

/** Scratch bytes for topk() with nq queries (plus 32 bytes for lane spills). */
export function scratchBytes(nq: u32, n: u32, bytesPerCode: u32, k: u32, maxDist: u32): u32 {
  return 32 + nq * queryScratchBytes(bytesPerCode, maxDist, candidateCap(n, k));
}

// Distances of the 16 codes of one block to a query, in u8 lanes. Valid while bytesPerCode <= 31
// (distance <= 248). `splats` holds each query byte broadcast to 16 lanes.
@inline function blockDistU8(block: usize, splats: usize, bytesPerCode: u32): v128 {
  let acc = i8x16.splat(0);
  let j: u32 = 0;
  for (; j + 2 <= bytesPerCode; j += 2) {
    const o = <usize>j << 4;
    const a = i8x16.popcnt(v128.xor(v128.load(block + o), v128.load(splats + o)));
    const b = i8x16.popcnt(v128.xor(v128.load(block + o, 16), v128.load(splats + o, 16)));
    acc = i8x16.add(acc, i8x16.add(a, b));
  }
  if (j < bytesPerCode) {
    const o = <usize>j << 4;
    acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block + o), v128.load(splats + o))));
  }
  return acc;
}

// The 64-bit case dominates deployments: unrolled, with the query held in registers. Measured
// side by side in V8 (bench A/B, 1M codes): one accumulator chain beats an add tree by ~3%; a
// carry-save adder tree needing 4 popcounts instead of 8 was ~15% slower; unrolling the 128-bit
// case the same way was ~15% slower than the loop in blockDistU8.
@inline function blockDist8(
  block: usize,
  q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128,
): v128 {
  let acc = i8x16.popcnt(v128.xor(v128.load(block, 0), q0));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 16), q1)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 32), q2)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 48), q3)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 64), q4)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 80), q5)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 96), q6)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(block, 112), q7)));
  return acc;
}

// Distances in two u16x8 halves (lanes 0-7, 8-15), for codes of any length: u8 partial sums over
// at most 24 bytes, then widened.
@inline function blockDistU16(block: usize, splats: usize, bytesPerCode: u32, spill: usize): void {
  let lo = i16x8.splat(0);
  let hi = i16x8.splat(0);
  for (let j: u32 = 0; j < bytesPerCode; j += 24) {
    const o = <usize>j << 4;
    const acc = blockDistU8(block + o, splats + o, min<u32>(24, bytesPerCode - j));
    lo = i16x8.add(lo, i16x8.extend_low_i8x16_u(acc));
    hi = i16x8.add(hi, i16x8.extend_high_i8x16_u(acc));
  }
  v128.store(spill, lo);
  v128.store(spill, hi, 16);
}

// Pointers into one query's scratch region; unmanaged and placed in static memory, so it costs no
// allocation. The region starts with the state: [limit, count below limit, candidates held] as u32.
@unmanaged class QueryView {
  st: usize;
  splats: usize;
  hist: usize;
  candIdx: usize;
  candDist: usize;
}

@inline function viewAt(view: QueryView, base: usize, bytesPerCode: u32, maxDist: u32, cap: u32): void {
  view.st = base;
  view.splats = base + STATE_BYTES;
  view.hist = view.splats + align16(bytesPerCode * 16);
  view.candIdx = view.hist + align16((maxDist + 2) * 4);
  view.candDist = view.candIdx + align16(cap * 4);
}

// Keeps the candidates that can still be in the top k: all with d < L, and the first k - cnt
// (in index order) with d == L. Rebuilds the histogram. Returns the new candidate count.
function compact(view: QueryView, k: u32, maxDist: u32): u32 {
  const st = view.st;
  const limit = load<u32>(st);
  const below = load<u32>(st, 4);
  const len = load<u32>(st, 8);
  let tiesLeft: u32 = k > below ? k - below : 0;
  memory.fill(view.hist, 0, (maxDist + 2) * 4);
  let out: u32 = 0;
  for (let i: u32 = 0; i < len; i++) {
    const d = <u32>load<u16>(view.candDist + (<usize>i << 1));
    let keep = d < limit;
    if (!keep && d == limit && tiesLeft > 0) {
      tiesLeft--;
      keep = true;
    }
    if (keep) {
      store<u32>(view.candIdx + (<usize>out << 2), load<u32>(view.candIdx + (<usize>i << 2)));
      store<u16>(view.candDist + (<usize>out << 1), <u16>d);
      const h = view.hist + (<usize>d << 2);
      store<u32>(h, load<u32>(h) + 1);
      out++;
    }
  }
  store<u32>(st, out, 8);
  return out;
}

// Accepts code `idx` at distance d (< limit). Returns the (possibly lowered) limit.
@inline function accept(view: QueryView, idx: u32, d: u32, k: u32, cap: u32, maxDist: u32): u32 {
  const st = view.st;
  let len = load<u32>(st, 8);
  store<u32>(view.candIdx + (<usize>len << 2), idx);
  store<u16>(view.candDist + (<usize>len << 1), <u16>d);
  len++;
  store<u32>(st, len, 8);
  const h = view.hist + (<usize>d << 2);
  store<u32>(h, load<u32>(h) + 1);
  let below = load<u32>(st, 4) + 1;
  let limit = load<u32>(st);
  while (below >= k) {
    limit--;
    below -= load<u32>(view.hist + (<usize>limit << 2));
  }
  store<u32>(st, limit);
  store<u32>(st, below, 4);
  if (len == cap) compact(view, k, maxDist);
  return limit;
}

// Walks the set lanes of `mask` (codes base..base+15 of the block, distances spilled at `spill`,
// u8 or u16 lanes) and accepts those still under the limit.
@inline function acceptLanes(
  view: QueryView, mask: u32, base: u32, spill: usize, wide: bool,
  k: u32, cap: u32, maxDist: u32, limit: u32,
): u32 {
  while (mask != 0) {
    const lane = ctz(mask);
    mask &= mask - 1;
    const d: u32 = wide ? <u32>load<u16>(spill + (<usize>lane << 1)) : <u32>load<u8>(spill + lane);
    if (d < limit) limit = accept(view, base + lane, d, k, cap, maxDist);
  }
  return limit;
}

// Scans blocks [b0, b1) for one query.
function scanRange(
  view: QueryView, codes: usize, n: u32, bytesPerCode: u32, b0: u32, b1: u32,
  k: u32, cap: u32, maxDist: u32, spill: usize,
): void {
  let limit = load<u32>(view.st);
  if (limit == 0) return;
  const blockBytes = bytesPerCode * BLOCK;
  const lastBlock = (n - 1) / BLOCK;
  const tailMask: u32 = n % BLOCK == 0 ? 0xffff : (1 << (n % BLOCK)) - 1;
  const splats = view.splats;
  if (bytesPerCode == 8) {
    const q0 = v128.load(splats, 0);
    const q1 = v128.load(splats, 16);
    const q2 = v128.load(splats, 32);
    const q3 = v128.load(splats, 48);
    const q4 = v128.load(splats, 64);
    const q5 = v128.load(splats, 80);
    const q6 = v128.load(splats, 96);
    const q7 = v128.load(splats, 112);
    let vlimit = i8x16.splat(<i8>limit);
    for (let b = b0; b < b1; b++) {
      const dist = blockDist8(codes + <usize>b * blockBytes, q0, q1, q2, q3, q4, q5, q6, q7);
      let mask = <u32>i8x16.bitmask(i8x16.lt_u(dist, vlimit));
      if (mask == 0) continue;
      if (b == lastBlock) mask &= tailMask;
      v128.store(spill, dist);
      limit = acceptLanes(view, mask, b * BLOCK, spill, false, k, cap, maxDist, limit);
      if (limit == 0) return;
      vlimit = i8x16.splat(<i8>limit);
    }
  } else if (bytesPerCode <= 31) {
    let vlimit = i8x16.splat(<i8>limit);
    for (let b = b0; b < b1; b++) {
      const dist = blockDistU8(codes + <usize>b * blockBytes, splats, bytesPerCode);
      let mask = <u32>i8x16.bitmask(i8x16.lt_u(dist, vlimit));
      if (mask == 0) continue;
      if (b == lastBlock) mask &= tailMask;
      v128.store(spill, dist);
      limit = acceptLanes(view, mask, b * BLOCK, spill, false, k, cap, maxDist, limit);
      if (limit == 0) return;
      vlimit = i8x16.splat(<i8>limit);
    }
  } else {
    let vlimit = i16x8.splat(<i16>limit);
    for (let b = b0; b < b1; b++) {
      blockDistU16(codes + <usize>b * blockBytes, splats, bytesPerCode, spill);
      const lo = <u32>i16x8.bitmask(i16x8.lt_u(v128.load(spill), vlimit));
      const hi = <u32>i16x8.bitmask(i16x8.lt_u(v128.load(spill, 16), vlimit));
      let mask = lo | (hi << 8);
      if (mask == 0) continue;
      if (b == lastBlock) mask &= tailMask;
      limit = acceptLanes(view, mask, b * BLOCK, spill, true, k, cap, maxDist, limit);
      if (limit == 0) return;
      vlimit = i16x8.splat(<i16>limit);
    }
  }
}

function initQuery(view: QueryView, query: usize, bytesPerCode: u32, maxDist: u32): void {
  store<u32>(view.st, maxDist + 1);
  store<u32>(view.st, 0, 4);
  store<u32>(view.st, 0, 8);
  for (let j: u32 = 0; j < bytesPerCode; j++) {
    v128.store(view.splats + (<usize>j << 4), i8x16.splat(load<i8>(query + j)));
  }
  memory.fill(view.hist, 0, (maxDist + 2) * 4);
}

// Writes the surviving candidates, sorted by (distance, index), to the output; returns the count.
function emit(view: QueryView, k: u32, maxDist: u32, outIdx: usize, outDist: usize): u32 {
  const len = compact(view, k, maxDist);
  // Histogram -> starting offsets (counting sort; stable, so ties keep ascending index).
  let run: u32 = 0;
  for (let d: u32 = 0; d <= maxDist + 1; d++) {
    const h = view.hist + (<usize>d << 2);
    const c = load<u32>(h);
    store<u32>(h, run);
    run += c;
  }
  for (let i: u32 = 0; i < len; i++) {
    const d = <u32>load<u16>(view.candDist + (<usize>i << 1));
    const h = view.hist + (<usize>d << 2);
    const pos = load<u32>(h);
    store<u32>(h, pos + 1);
    store<u32>(outIdx + (<usize>pos << 2), load<u32>(view.candIdx + (<usize>i << 2)));
    store<u16>(outDist + (<usize>pos << 1), <u16>d);
  }
  return len;
}

/**
 * Exact top-k for nq queries in one pass over the table (the table is walked in chunks that stay
 * in cache while every query scans them). Only codes with distance <= maxDist qualify (maxDist =
 * bits means no radius). Query q's results go to outIdx/outDist at q * k, its count to outCount[q].
 */
export function topk(
  codes: usize, n: u32, bytesPerCode: u32,
  queries: usize, nq: u32, k: u32, maxDist: u32,
  scratch: usize, outIdx: usize, outDist: usize, outCount: usize,
): void {
  const cap = candidateCap(n, k);
  const perQuery = queryScratchBytes(bytesPerCode, maxDist, cap);
  const spill = scratch;
  const first = scratch + 32;
  const view = changetype<QueryView>(memory.data(20));
  for (let q: u32 = 0; q < nq; q++) {
    viewAt(view, first + <usize>q * perQuery, bytesPerCode, maxDist, cap);
    initQuery(view, queries + <usize>q * bytesPerCode, bytesPerCode, maxDist);
  }
  if (n > 0 && k > 0) {
    const nBlocks = (n + BLOCK - 1) / BLOCK;
    const chunk = max<u32>(1, 32768 / (bytesPerCode * BLOCK));
    for (let b0: u32 = 0; b0 < nBlocks; b0 += chunk) {
      const b1 = min(b0 + chunk, nBlocks);
      for (let q: u32 = 0; q < nq; q++) {
        viewAt(view, first + <usize>q * perQuery, bytesPerCode, maxDist, cap);
        scanRange(view, codes, n, bytesPerCode, b0, b1, k, cap, maxDist, spill);
      }
    }
  }
  for (let q: u32 = 0; q < nq; q++) {
    viewAt(view, first + <usize>q * perQuery, bytesPerCode, maxDist, cap);
    const off = <usize>q * k;
    const count = k > 0 ? emit(view, k, maxDist, outIdx + (off << 2), outDist + (off << 1)) : 0;
    store<u32>(outCount + (<usize>q << 2), count);
  }
}

/** Number of codes within distance `radius` of the query (sizes a radius search exactly). */
export function countWithin(
  codes: usize, n: u32, bytesPerCode: u32, query: usize, radius: u32, scratch: usize,
): u32 {
  if (n == 0) return 0;
  const spill = scratch;
  const splats = scratch + 32;
  for (let j: u32 = 0; j < bytesPerCode; j++) {
    v128.store(splats + (<usize>j << 4), i8x16.splat(load<i8>(query + j)));
  }
  const blockBytes = bytesPerCode * BLOCK;
  const nBlocks = (n + BLOCK - 1) / BLOCK;
  const tailMask: u32 = n % BLOCK == 0 ? 0xffff : (1 << (n % BLOCK)) - 1;
  let count: u32 = 0;
  for (let b: u32 = 0; b < nBlocks; b++) {
    const block = codes + <usize>b * blockBytes;
    let mask: u32;
    if (bytesPerCode <= 31) {
      const dist = blockDistU8(block, splats, bytesPerCode);
      mask = <u32>i8x16.bitmask(i8x16.le_u(dist, i8x16.splat(<i8>min<u32>(radius, 255))));
    } else {
      blockDistU16(block, splats, bytesPerCode, spill);
      const vr = i16x8.splat(<i16>radius);
      mask = <u32>i16x8.bitmask(i16x8.le_u(v128.load(spill), vr)) |
        (<u32>i16x8.bitmask(i16x8.le_u(v128.load(spill, 16), vr)) << 8);
    }
    if (b == nBlocks - 1) mask &= tailMask;
    count += popcnt(mask);
  }
  return count;
}

/** Scratch bytes for countWithin(). */
export function countScratchBytes(bytesPerCode: u32): u32 {
  return 32 + bytesPerCode * 16;
}

/**
 * Merges m lists, each sorted by (distance, id), into the first k by (distance, id).
 * List i occupies [offsets[i], offsets[i+1]) of ids (u32) and dists (u16). `heads` is scratch of
 * m u32. Returns the number written to outIds/outDists.
 */
export function merge(
  m: u32, offsets: usize, ids: usize, dists: usize, k: u32,
  heads: usize, outIds: usize, outDists: usize,
): u32 {
  for (let i: u32 = 0; i < m; i++) store<u32>(heads + (<usize>i << 2), load<u32>(offsets + (<usize>i << 2)));
  let out: u32 = 0;
  while (out < k) {
    let best: i32 = -1;
    let bestKey: u64 = 0;
    for (let i: u32 = 0; i < m; i++) {
      const h = load<u32>(heads + (<usize>i << 2));
      if (h >= load<u32>(offsets + (<usize>(i + 1) << 2))) continue;
      const key = (<u64>load<u16>(dists + (<usize>h << 1)) << 32) | <u64>load<u32>(ids + (<usize>h << 2));
      if (best < 0 || key < bestKey) {
        best = <i32>i;
        bestKey = key;
      }
    }
    if (best < 0) break;
    const hp = heads + (<usize>best << 2);
    store<u32>(hp, load<u32>(hp) + 1);
    store<u32>(outIds + (<usize>out << 2), <u32>(bestKey & 0xffffffff));
    store<u16>(outDists + (<usize>out << 1), <u16>(bestKey >> 32));
    out++;
  }
  return out;
}
