// Hamming ranking kernel: exact top-k, radius search and multi-shard merge over packed binary codes.
//
// In memory, codes are bit-sliced: groups of 128 codes, and within a group one v128 "plane" per
// code bit p holding bit p of all 128 codes (code c of the group is bit c of the plane read as a
// little-endian 128-bit integer; bit p of a code is bit p & 7 of its byte p >> 3). A group's
// distances are then counted for all 128 codes at once with a Harley-Seal carry-save adder tree
// (about 7 vector ops per plane, no popcount) and compared with the current limit bit-serially.
// Measured in the same bench (npm run bench:hamming, 1M codes, top-100, Node): 1.00 -> 0.75 ms
// per query at 128 bits and 0.43 -> 0.40 ms at 64 bits against the byte-transposed blocked16
// scan this replaced (one i8x16.popcnt per byte of 16 codes, a 7-instruction nibble lookup in
// V8 on x64). The shard files keep the blocked16 layout (schemas/codeTable.ts); slice() and
// unslice() convert in place when a table is loaded or written.
//
// For 16, 32, 64 and 128 bits, groups are scanned by groupBelow unrolled (unrolledGroups.ts,
// written at build time by wasm/codegen/unrolledGroups.ts), which reads the query's masks from a
// constant address; every other length runs the loop in groupBelow. Both give the same lanes.
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

import { compareLimit } from './compareLimit';
import { groupBelowUnrolled, hasUnrolledScan, UNROLLED_MASKS } from './unrolledGroups';

const GROUP: u32 = 128;
const BLOCK: u32 = 16;
const STATE_BYTES: u32 = 16;
// Per-group spill: the distance planes (up to 4 + 7 for 1024 bits) for the lanes that qualify,
// then (at DISTANCES_AT) all 128 distances as low and high bytes when many lanes qualify.
const DISTANCES_AT: u32 = 256;
const SPILL_BYTES: u32 = DISTANCES_AT + 256;
// Above this many qualifying lanes in a group, distances are spilled all at once. Estimated from op
// counts, not tuned: the bulk conversion costs about as much as 8 to 10 single-lane extractions.
// (Spilling in bulk took bench:eval's full rankings from 16.8 s to 13.4 s on a loaded machine.)
const PER_LANE_MAX: u32 = 8;

@inline function align16(x: u32): u32 {
  return (x + 15) & ~15;
}

export function heapBase(): usize {
  return __heap_base;
}

/** Bytes of the bit-sliced table for n codes: whole groups of 128. */
export function slicedBytes(n: u32, bytesPerCode: u32): u32 {
  return ((n + GROUP - 1) / GROUP) * GROUP * bytesPerCode;
}

/** Bytes of scratch needed for one query of a top-k or radius pass. */
function queryScratchBytes(bytesPerCode: u32, maxDist: u32, cap: u32): u32 {
  return (
    STATE_BYTES +
    bytesPerCode * 128 +
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

/** Scratch bytes for topk() with nq queries (plus the distance-plane spill). */
export function scratchBytes(nq: u32, n: u32, bytesPerCode: u32, k: u32, maxDist: u32): u32 {
  return SPILL_BYTES + nq * queryScratchBytes(bytesPerCode, maxDist, candidateCap(n, k));
}

/** Bits of the count of 16-plane carries, the high part of a distance (bits / 16 at most). */
function carryBits(bits: u32): u32 {
  return 32 - clz(bits >> 4);
}

// Lanes of one group whose distance to the query is below `limit`. `masks` holds the query's
// bits as all-ones or all-zero planes. When some lane is below, the distance's 4 + sBits bit
// planes, least significant first, are left at `spill` for laneDistance.
//
// Harley-Seal: ones/twos/fours/eights are the low four distance bits as carry-save accumulators;
// every 8 planes yield one "eights" carry, and each pair of those one "sixteens" carry, added into
// s0..s6 (a ripple counter). s3..s6 only serve codes over 255 bits and live in the spill, so the
// 64- and 128-bit scans keep every accumulator in a register. Measured A/B in Node (two builds
// interleaved on the same 1M random codes, top-100, median of 1,000 queries): this 8-plane body
// beat a 16-plane one by 20-25%, and comparing in registers without spilling the planes saved 5-9%.
function groupBelow(
  group: usize, masks: usize, bits: u32, sBits: u32, limit: u32, spill: usize,
): v128 {
  const zero = i32x4.splat(0);
  let ones = zero;
  let twos = zero;
  let fours = zero;
  let eights = zero;
  let pending = zero;
  let s0 = zero;
  let s1 = zero;
  let s2 = zero;
  for (let i: u32 = 3; i < sBits; i++) v128.store(spill + 64 + (<usize>i << 4), zero);
  const chunks = bits >> 3;
  // An odd chunk count runs one extra round with no planes, so the last carry reaches the counter.
  const rounds = chunks + (chunks & 1);
  for (let c: u32 = 0; c < rounds; c++) {
    let eightsIn = zero;
    if (c < chunks) {
      const p = group + (<usize>c << 7);
      const m = masks + (<usize>c << 7);
      const x0 = v128.xor(v128.load(p, 0), v128.load(m, 0));
      const x1 = v128.xor(v128.load(p, 16), v128.load(m, 16));
      let u = v128.xor(ones, x0);
      const twosA = v128.or(v128.and(ones, x0), v128.and(u, x1));
      ones = v128.xor(u, x1);
      const x2 = v128.xor(v128.load(p, 32), v128.load(m, 32));
      const x3 = v128.xor(v128.load(p, 48), v128.load(m, 48));
      u = v128.xor(ones, x2);
      const twosB = v128.or(v128.and(ones, x2), v128.and(u, x3));
      ones = v128.xor(u, x3);
      u = v128.xor(twos, twosA);
      const foursA = v128.or(v128.and(twos, twosA), v128.and(u, twosB));
      twos = v128.xor(u, twosB);
      const x4 = v128.xor(v128.load(p, 64), v128.load(m, 64));
      const x5 = v128.xor(v128.load(p, 80), v128.load(m, 80));
      u = v128.xor(ones, x4);
      const twosC = v128.or(v128.and(ones, x4), v128.and(u, x5));
      ones = v128.xor(u, x5);
      const x6 = v128.xor(v128.load(p, 96), v128.load(m, 96));
      const x7 = v128.xor(v128.load(p, 112), v128.load(m, 112));
      u = v128.xor(ones, x6);
      const twosD = v128.or(v128.and(ones, x6), v128.and(u, x7));
      ones = v128.xor(u, x7);
      u = v128.xor(twos, twosC);
      const foursB = v128.or(v128.and(twos, twosC), v128.and(u, twosD));
      twos = v128.xor(u, twosD);
      u = v128.xor(fours, foursA);
      eightsIn = v128.or(v128.and(fours, foursA), v128.and(u, foursB));
      fours = v128.xor(u, foursB);
    }
    if ((c & 1) == 0) {
      pending = eightsIn;
      continue;
    }
    const u = v128.xor(eights, pending);
    let carry = v128.or(v128.and(eights, pending), v128.and(u, eightsIn));
    eights = v128.xor(u, eightsIn);
    if (sBits == 0) continue;
    let t = v128.and(s0, carry);
    s0 = v128.xor(s0, carry);
    carry = t;
    if (sBits == 1) continue;
    t = v128.and(s1, carry);
    s1 = v128.xor(s1, carry);
    carry = t;
    if (sBits == 2) continue;
    t = v128.and(s2, carry);
    s2 = v128.xor(s2, carry);
    carry = t;
    for (let i: u32 = 3; i < sBits; i++) {
      const at = spill + 64 + (<usize>i << 4);
      const s = v128.load(at);
      v128.store(at, v128.xor(s, carry));
      carry = v128.and(s, carry);
    }
  }
  return compareLimit(ones, twos, fours, eights, s0, s1, s2, sBits, limit, spill);
}

// The query masks UNROLLED_MASKS holds (their scratch address; 0 for none). Reset by every entry
// point, so a single query's scan copies its masks once instead of once per chunk of groups.
let copiedMasks: usize = 0;

// Prepares a scan with `masks`: for the code lengths with an unrolled scan, copies them to the
// constant address that scan reads (loads from constant addresses skip workerd's bounds checks;
// wasm/codegen/unrolledGroups.ts). Returns whether the unrolled scan applies.
function useMasks(masks: usize, bits: u32): bool {
  if (!hasUnrolledScan(bits)) return false;
  if (copiedMasks != masks) memory.copy(UNROLLED_MASKS, masks, <usize>bits << 4);
  copiedMasks = masks;
  return true;
}

// groupBelow, or its unrolled form after useMasks returned true.
@inline function scanGroup(
  group: usize, masks: usize, bits: u32, sBits: u32, limit: u32, spill: usize, unrolled: bool,
): v128 {
  return unrolled
    ? groupBelowUnrolled(bits, group, limit, spill)
    : groupBelow(group, masks, bits, sBits, limit, spill);
}

/** Lanes of group g that hold real codes (the last group is padded with zero codes). */
@inline function validLanes(g: u32, n: u32, half: u32): u64 {
  const start = g * GROUP + half * 64;
  if (n >= start + 64) return <u64>-1;
  if (n <= start) return 0;
  return (<u64>1 << <u64>(n - start)) - 1;
}

/** Distance of lane `lane` of half `half` from the spilled distance planes. */
@inline function laneDistance(spill: usize, half: u32, lane: u64, nb: u32): u32 {
  let d: u32 = 0;
  for (let i: u32 = 0; i < nb; i++) {
    d |= <u32>((load<u64>(spill + (<usize>i << 4) + (<usize>half << 3)) >> lane) & 1) << i;
  }
  return d;
}

// Bytes of 16 lanes (lanes 16 * segment ..) whose bit t is that lane's bit in plane t, for
// planes t < count (at most 8) spaced 16 bytes apart: bit planes back to bytes.
@inline function bytesFromPlanes(planes: usize, count: u32, segment: u32): v128 {
  // Lane i tests bit i & 7 of byte i >> 3 of the plane's 16-bit segment.
  const spread = v128(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const laneBits = v128(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  let bytes = i32x4.splat(0);
  for (let t: u32 = 0; t < count; t++) {
    const bitsOf16 = i8x16.swizzle(i16x8.splat(load<u16>(planes + (t << 4) + (segment << 1))), spread);
    const set = i8x16.eq(v128.and(bitsOf16, laneBits), laneBits);
    bytes = v128.or(bytes, v128.and(set, i8x16.splat(<i8>(<u32>1 << t))));
  }
  return bytes;
}

// All 128 distances of a group from the spilled planes: low bytes at `out`, high bytes at
// out + 128. Cheaper than laneDistance once more than a few lanes qualify (full rankings).
function spillDistances(spill: usize, nb: u32, out: usize): void {
  for (let segment: u32 = 0; segment < GROUP / 16; segment++) {
    v128.store(out + (segment << 4), bytesFromPlanes(spill, min<u32>(nb, 8), segment));
    const high = nb > 8 ? bytesFromPlanes(spill + 128, nb - 8, segment) : i32x4.splat(0);
    v128.store(out + 128 + (segment << 4), high);
  }
}

// Pointers into one query's scratch region; unmanaged and placed in static memory, so it costs no
// allocation. The region starts with the state: [limit, count below limit, candidates held] as u32.
@unmanaged class QueryView {
  st: usize;
  masks: usize;
  hist: usize;
  candIdx: usize;
  candDist: usize;
}

@inline function viewAt(view: QueryView, base: usize, bytesPerCode: u32, maxDist: u32, cap: u32): void {
  view.st = base;
  view.masks = base + STATE_BYTES;
  view.hist = view.masks + bytesPerCode * 128;
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

// Walks the set lanes of `mask` (codes base..base+63, half `half` of the spilled distance planes)
// and accepts those still under the limit, which may have dropped since the group was compared.
// With `spilled`, the distances were already written out by spillDistances.
function acceptLanes(
  view: QueryView, mask: u64, base: u32, spill: usize, half: u32, nb: u32, spilled: bool,
  k: u32, cap: u32, maxDist: u32, limit: u32,
): u32 {
  const lanes = spill + DISTANCES_AT + (<usize>half << 6);
  while (mask != 0) {
    const lane = ctz(mask);
    mask &= mask - 1;
    const d = spilled
      ? <u32>load<u8>(lanes + <usize>lane) | (<u32>load<u8>(lanes + 128 + <usize>lane) << 8)
      : laneDistance(spill, half, lane, nb);
    if (d < limit) limit = accept(view, base + <u32>lane, d, k, cap, maxDist);
  }
  return limit;
}

// Holds the first `count` codes of group g as candidates (a full ranking needs no limit).
function holdGroup(view: QueryView, g: u32, count: u32, spill: usize, nb: u32): void {
  const lanes = spill + DISTANCES_AT;
  spillDistances(spill, nb, lanes);
  const len = load<u32>(view.st, 8);
  const idx = view.candIdx + (<usize>len << 2);
  const dist = view.candDist + (<usize>len << 1);
  for (let lane: u32 = 0; lane < count; lane++) {
    const d = <u32>load<u8>(lanes + lane) | (<u32>load<u8>(lanes + 128 + lane) << 8);
    store<u32>(idx + (<usize>lane << 2), g * GROUP + lane);
    store<u16>(dist + (<usize>lane << 1), <u16>d);
    const h = view.hist + (<usize>d << 2);
    store<u32>(h, load<u32>(h) + 1);
  }
  store<u32>(view.st, len + count, 8);
}

// Scans groups [g0, g1) for one query.
function scanRange(
  view: QueryView, codes: usize, n: u32, bits: u32, g0: u32, g1: u32,
  k: u32, cap: u32, maxDist: u32, spill: usize,
): void {
  let limit = load<u32>(view.st);
  if (limit == 0) return;
  const groupBytes = <usize>bits << 4;
  const sBits = carryBits(bits);
  const nb = 4 + sBits;
  // Ranking the whole table: every code is a candidate, so skip the selection bookkeeping.
  const all = k >= n && maxDist >= bits;
  const unrolled = useMasks(view.masks, bits);
  for (let g = g0; g < g1; g++) {
    const below = scanGroup(codes + <usize>g * groupBytes, view.masks, bits, sBits, limit, spill, unrolled);
    if (all) {
      holdGroup(view, g, min<u32>(GROUP, n - g * GROUP), spill, nb);
      continue;
    }
    if (!v128.any_true(below)) continue;
    const lo = i64x2.extract_lane(below, 0) & validLanes(g, n, 0);
    const hi = i64x2.extract_lane(below, 1) & validLanes(g, n, 1);
    const spilled = <u32>(popcnt(lo) + popcnt(hi)) > PER_LANE_MAX;
    if (spilled) spillDistances(spill, nb, spill + DISTANCES_AT);
    limit = acceptLanes(view, lo, g * GROUP, spill, 0, nb, spilled, k, cap, maxDist, limit);
    limit = acceptLanes(view, hi, g * GROUP + 64, spill, 1, nb, spilled, k, cap, maxDist, limit);
    if (limit == 0) return;
  }
}

// The query's bits as planes: all-ones where the bit is set, so plane ^ mask marks differences.
function writeMasks(masks: usize, query: usize, bits: u32): void {
  for (let p: u32 = 0; p < bits; p++) {
    const bit = (<u32>load<u8>(query + (p >> 3)) >> (p & 7)) & 1;
    v128.store(masks + (<usize>p << 4), i32x4.splat(-(<i32>bit)));
  }
}

function initQuery(view: QueryView, query: usize, bytesPerCode: u32, maxDist: u32): void {
  store<u32>(view.st, maxDist + 1);
  store<u32>(view.st, 0, 4);
  store<u32>(view.st, 0, 8);
  writeMasks(view.masks, query, bytesPerCode << 3);
  memory.fill(view.hist, 0, (maxDist + 2) * 4);
}

// Writes the surviving candidates, sorted by (distance, index), to the output; returns the count.
function emit(view: QueryView, k: u32, maxDist: u32, outIdx: usize, outDist: usize): u32 {
  // Up to k held candidates are all in the top k (the limit only drops once k lie below it), and
  // the histogram counts exactly the held ones: compaction is needed only above k.
  const held = load<u32>(view.st, 8);
  const len = held <= k ? held : compact(view, k, maxDist);
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
  const first = scratch + SPILL_BYTES;
  const bits = bytesPerCode << 3;
  const view = changetype<QueryView>(memory.data(20));
  copiedMasks = 0;
  for (let q: u32 = 0; q < nq; q++) {
    viewAt(view, first + <usize>q * perQuery, bytesPerCode, maxDist, cap);
    initQuery(view, queries + <usize>q * bytesPerCode, bytesPerCode, maxDist);
  }
  if (n > 0 && k > 0) {
    const nGroups = (n + GROUP - 1) / GROUP;
    // 256 KB of table per chunk: it stays in L2 while every query scans it, and each query's
    // masks are copied for the unrolled scan once per chunk. Batches of 32 queries over 1M codes
    // (Node, median ms per query; bench/hamming/ab.ts --batch 32): 0.325 -> 0.317 at 64 bits,
    // 0.631 -> 0.607 at 128, from 32 KB.
    const chunk = max<u32>(1, 262144 / (bits << 4));
    for (let g0: u32 = 0; g0 < nGroups; g0 += chunk) {
      const g1 = min(g0 + chunk, nGroups);
      for (let q: u32 = 0; q < nq; q++) {
        viewAt(view, first + <usize>q * perQuery, bytesPerCode, maxDist, cap);
        scanRange(view, codes, n, bits, g0, g1, k, cap, maxDist, spill);
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
  const spill = scratch;
  const masks = scratch + SPILL_BYTES;
  const bits = bytesPerCode << 3;
  writeMasks(masks, query, bits);
  const groupBytes = <usize>bits << 4;
  const sBits = carryBits(bits);
  const nGroups = (n + GROUP - 1) / GROUP;
  let count: u32 = 0;
  copiedMasks = 0;
  const unrolled = useMasks(masks, bits);
  for (let g: u32 = 0; g < nGroups; g++) {
    const below = scanGroup(codes + <usize>g * groupBytes, masks, bits, sBits, radius + 1, spill, unrolled);
    count += <u32>popcnt(i64x2.extract_lane(below, 0) & validLanes(g, n, 0));
    count += <u32>popcnt(i64x2.extract_lane(below, 1) & validLanes(g, n, 1));
  }
  return count;
}

/** Scratch bytes for countWithin(). */
export function countScratchBytes(bytesPerCode: u32): u32 {
  return SPILL_BYTES + bytesPerCode * 128;
}

/**
 * Converts n codes in blocked16 layout (blocks of 16 codes, byte j of the 16 codes contiguous) to
 * the bit-sliced layout, in place. The region must hold slicedBytes(n) bytes; `tmp` holds one
 * group (128 * bytesPerCode bytes).
 */
export function slice(codes: usize, n: u32, bytesPerCode: u32, tmp: usize): void {
  const blocked = ((n + BLOCK - 1) / BLOCK) * BLOCK * bytesPerCode;
  const total = slicedBytes(n, bytesPerCode);
  memory.fill(codes + blocked, 0, total - blocked);
  const groupBytes = GROUP * bytesPerCode;
  const blockBytes = BLOCK * bytesPerCode;
  for (let g: usize = codes; g < codes + total; g += groupBytes) {
    memory.copy(tmp, g, groupBytes);
    for (let b: u32 = 0; b < GROUP / BLOCK; b++) {
      for (let j: u32 = 0; j < bytesPerCode; j++) {
        const column = v128.load(tmp + b * blockBytes + (j << 4));
        const planes = g + (<usize>j << 7) + (b << 1);
        for (let t: u32 = 0; t < 8; t++) {
          store<u16>(planes + (t << 4), <u16>i8x16.bitmask(i8x16.shl(column, 7 - t)));
        }
      }
    }
  }
}

/**
 * Writes groups [g0, g1) of a bit-sliced table back in blocked16 layout to `out`
 * ((g1 - g0) * 128 * bytesPerCode bytes): the inverse of slice().
 */
export function unslice(codes: usize, g0: u32, g1: u32, bytesPerCode: u32, out: usize): void {
  const groupBytes = GROUP * bytesPerCode;
  const blockBytes = BLOCK * bytesPerCode;
  for (let g = g0; g < g1; g++) {
    const group = codes + <usize>g * groupBytes;
    const dst = out + <usize>(g - g0) * groupBytes;
    for (let b: u32 = 0; b < GROUP / BLOCK; b++) {
      for (let j: u32 = 0; j < bytesPerCode; j++) {
        v128.store(dst + b * blockBytes + (j << 4), bytesFromPlanes(group + (<usize>j << 7), 8, b));
      }
    }
  }
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
