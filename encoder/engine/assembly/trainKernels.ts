// SIMD training kernels that run on the tfjs wasm backend's own memory.
//
// The module imports the backend's WebAssembly.Memory, so every pointer is a tensor's address in
// the backend heap (BackendWasm.dataIdMap), and kernels read and write tensors in place: no copy in
// or out. It must therefore never write anywhere it was not given: no allocator, no static data
// (test/encoder/engine/simdKernels.test.ts checks the binary has none), scratch only through arguments.
// Tensors are float32, channels last: a [rows, channels] view of NHWC with channels innermost.
// Channels are processed 4 at a time (f32x4) with a scalar tail.

const NEG_INF = f32x4.splat(-Infinity);

// Gradient of a 2x2 / stride 2 max pool without padding, for one channel vector at p (the window's
// top-left value); dx gets the output gradient at the first strict maximum of the window in
// row-major order, like the cpu backend, and 0 elsewhere (a window of -Infinity or NaN gets none).
@inline function poolGradVec(x: usize, dx: usize, dy: usize, colBytes: usize, rowBytes: usize): void {
  const v0 = v128.load(x);
  const v1 = v128.load(x + colBytes);
  const v2 = v128.load(x + rowBytes);
  const v3 = v128.load(x + rowBytes + colBytes);
  const g0 = f32x4.gt(v0, NEG_INF);
  let m = v128.bitselect(v0, NEG_INF, g0);
  const g1 = f32x4.gt(v1, m);
  m = v128.bitselect(v1, m, g1);
  const g2 = f32x4.gt(v2, m);
  m = v128.bitselect(v2, m, g2);
  const g3 = f32x4.gt(v3, m);
  const grad = v128.load(dy);
  const not3 = v128.not(g3);
  const take2 = v128.and(g2, not3);
  const take1 = v128.andnot(v128.and(g1, not3), g2);
  const take0 = v128.andnot(v128.andnot(v128.and(g0, not3), g2), g1);
  v128.store(dx, v128.and(grad, take0));
  v128.store(dx + colBytes, v128.and(grad, take1));
  v128.store(dx + rowBytes, v128.and(grad, take2));
  v128.store(dx + rowBytes + colBytes, v128.and(grad, g3));
}

@inline function poolGradScalar(x: usize, dx: usize, dy: usize, colBytes: usize, rowBytes: usize): void {
  const v0 = load<f32>(x);
  const v1 = load<f32>(x + colBytes);
  const v2 = load<f32>(x + rowBytes);
  const v3 = load<f32>(x + rowBytes + colBytes);
  let m: f32 = -Infinity;
  let best: i32 = -1;
  if (v0 > m) {
    m = v0;
    best = 0;
  }
  if (v1 > m) {
    m = v1;
    best = 1;
  }
  if (v2 > m) {
    m = v2;
    best = 2;
  }
  if (v3 > m) best = 3;
  const grad = load<f32>(dy);
  store<f32>(dx, best == 0 ? grad : 0);
  store<f32>(dx + colBytes, best == 1 ? grad : 0);
  store<f32>(dx + rowBytes, best == 2 ? grad : 0);
  store<f32>(dx + rowBytes + colBytes, best == 3 ? grad : 0);
}

/**
 * MaxPoolGrad for 2x2 windows, stride 2, no padding: x and dx are [n, h, w, c], dy is
 * [n, ho, wo, c] with 2 ho <= h and 2 wo <= w. Writes every dx value a window covers; rows and
 * columns beyond 2 ho and 2 wo are the caller's (zero them).
 */
export function maxPoolGrad2x2(x: usize, dy: usize, dx: usize, n: u32, h: u32, w: u32, c: u32, ho: u32, wo: u32): void {
  const colBytes = <usize>c << 2;
  const rowBytes = <usize>w * colBytes;
  const vecEnd = c & ~3;
  let out = dy;
  for (let b: u32 = 0; b < n; b++) {
    for (let i: u32 = 0; i < ho; i++) {
      const rowStart = (<usize>(b * h + 2 * i) * w) * colBytes;
      for (let j: u32 = 0; j < wo; j++) {
        const at = rowStart + <usize>(2 * j) * colBytes;
        const xp = x + at;
        const dxp = dx + at;
        let d: u32 = 0;
        for (; d < vecEnd; d += 4) {
          const off = <usize>d << 2;
          poolGradVec(xp + off, dxp + off, out + off, colBytes, rowBytes);
        }
        for (; d < c; d++) {
          const off = <usize>d << 2;
          poolGradScalar(xp + off, dxp + off, out + off, colBytes, rowBytes);
        }
        out += colBytes;
      }
    }
  }
}

/**
 * Per-channel sum of (x - mean)^2 over the rows of x [rows, c], into out[c] (float32). Sums run in
 * float32 over blocks of BLOCK_ROWS rows and in float64 across blocks, so a million-row batch keeps
 * float32 accuracy. `scratch` holds 12 c bytes.
 */
export function centeredSumSquares(x: usize, rows: u32, c: u32, mean: usize, out: usize, scratch: usize): void {
  sumsOverRows(x, 0, rows, c, mean, out, 0, scratch, false);
}

/**
 * Per-channel sums over the rows of dy [rows, c]: sum(dy) into sumDy[c] and sum(dy * (x - mean))
 * into sumDyC[c] (float32), accumulated like centeredSumSquares. `scratch` holds 24 c bytes.
 */
export function gradientSums(
  dy: usize, x: usize, rows: u32, c: u32, mean: usize, sumDy: usize, sumDyC: usize, scratch: usize,
): void {
  sumsOverRows(x, dy, rows, c, mean, sumDyC, sumDy, scratch, true);
}

const BLOCK_ROWS: u32 = 256;

// The two reductions above share this loop. Without dy: outA = sum((x - mean)^2). With dy:
// outA = sum(dy * (x - mean)) and outB = sum(dy). Block sums are f32 at scratch (4 c bytes per
// output), totals f64 after them (8 c bytes per output).
function sumsOverRows(
  x: usize, dy: usize, rows: u32, c: u32, mean: usize, outA: usize, outB: usize, scratch: usize, withDy: bool,
): void {
  const outputs: u32 = withDy ? 2 : 1;
  const blockA = scratch;
  const blockB = scratch + (<usize>c << 2);
  const totals = scratch + (<usize>(outputs * c) << 2);
  memory.fill(totals, 0, <usize>(outputs * c) << 3);
  const rowBytes = <usize>c << 2;
  const vecEnd = c & ~3;
  for (let r0: u32 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const r1 = min(r0 + BLOCK_ROWS, rows);
    memory.fill(blockA, 0, <usize>(outputs * c) << 2);
    for (let r = r0; r < r1; r++) {
      const xr = x + <usize>r * rowBytes;
      const dyr = dy + <usize>r * rowBytes;
      let d: u32 = 0;
      for (; d < vecEnd; d += 4) {
        const off = <usize>d << 2;
        const centered = f32x4.sub(v128.load(xr + off), v128.load(mean + off));
        if (withDy) {
          const g = v128.load(dyr + off);
          v128.store(blockA + off, f32x4.add(v128.load(blockA + off), f32x4.mul(g, centered)));
          v128.store(blockB + off, f32x4.add(v128.load(blockB + off), g));
        } else {
          v128.store(blockA + off, f32x4.add(v128.load(blockA + off), f32x4.mul(centered, centered)));
        }
      }
      for (; d < c; d++) {
        const off = <usize>d << 2;
        const centered = load<f32>(xr + off) - load<f32>(mean + off);
        if (withDy) {
          const g = load<f32>(dyr + off);
          store<f32>(blockA + off, load<f32>(blockA + off) + g * centered);
          store<f32>(blockB + off, load<f32>(blockB + off) + g);
        } else {
          store<f32>(blockA + off, load<f32>(blockA + off) + centered * centered);
        }
      }
    }
    for (let i: u32 = 0; i < outputs * c; i++) {
      const t = totals + (<usize>i << 3);
      store<f64>(t, load<f64>(t) + <f64>load<f32>(blockA + (<usize>i << 2)));
    }
  }
  for (let i: u32 = 0; i < c; i++) {
    store<f32>(outA + (<usize>i << 2), <f32>load<f64>(totals + (<usize>i << 3)));
    if (withDy) store<f32>(outB + (<usize>i << 2), <f32>load<f64>(totals + (<usize>(c + i) << 3)));
  }
}

/**
 * out = (x - mean) * a + b per channel over x [rows, c] (the batch-norm output); with `withDy`,
 * out = dy * s + (x - mean) * a + b (the batch-norm input gradient). mean, a, b and s are [c].
 */
export function channelAffine(
  x: usize, dy: usize, rows: u32, c: u32, mean: usize, a: usize, b: usize, s: usize, out: usize, withDy: bool,
): void {
  const rowBytes = <usize>c << 2;
  const vecEnd = c & ~3;
  for (let r: u32 = 0; r < rows; r++) {
    const at = <usize>r * rowBytes;
    let d: u32 = 0;
    for (; d < vecEnd; d += 4) {
      const off = <usize>d << 2;
      const centered = f32x4.sub(v128.load(x + at + off), v128.load(mean + off));
      let y = f32x4.add(f32x4.mul(centered, v128.load(a + off)), v128.load(b + off));
      if (withDy) y = f32x4.add(y, f32x4.mul(v128.load(dy + at + off), v128.load(s + off)));
      v128.store(out + at + off, y);
    }
    for (; d < c; d++) {
      const off = <usize>d << 2;
      let y = (load<f32>(x + at + off) - load<f32>(mean + off)) * load<f32>(a + off) + load<f32>(b + off);
      if (withDy) y += load<f32>(dy + at + off) * load<f32>(s + off);
      store<f32>(out + at + off, y);
    }
  }
}

/**
 * out[b] = a[b] x bm[b] for `batch` row-major matrices a [m, k], bm [k, n], out [m, n]: the batched
 * small products of attention, which the stock kernel runs about 10x slower than one large one.
 * Each output row is built 16 columns (four vectors in registers) at a time.
 */
export function batchMatMul(a: usize, bm: usize, out: usize, batch: u32, m: u32, k: u32, n: u32): void {
  const rowBytes = <usize>n << 2;
  const wide = n & ~15;
  const vec = n & ~3;
  for (let bi: u32 = 0; bi < batch; bi++) {
    const ab = a + <usize>bi * m * k * 4;
    const bb = bm + <usize>bi * k * rowBytes;
    const ob = out + <usize>bi * m * rowBytes;
    for (let i: u32 = 0; i < m; i++) {
      const ai = ab + <usize>i * k * 4;
      const oi = ob + <usize>i * rowBytes;
      let j: u32 = 0;
      for (; j < wide; j += 16) {
        let c0 = f32x4.splat(0);
        let c1 = c0;
        let c2 = c0;
        let c3 = c0;
        let row = bb + (<usize>j << 2);
        for (let kk: u32 = 0; kk < k; kk++, row += rowBytes) {
          const s = f32x4.splat(load<f32>(ai + (<usize>kk << 2)));
          c0 = f32x4.add(c0, f32x4.mul(s, v128.load(row)));
          c1 = f32x4.add(c1, f32x4.mul(s, v128.load(row, 16)));
          c2 = f32x4.add(c2, f32x4.mul(s, v128.load(row, 32)));
          c3 = f32x4.add(c3, f32x4.mul(s, v128.load(row, 48)));
        }
        const o = oi + (<usize>j << 2);
        v128.store(o, c0);
        v128.store(o, c1, 16);
        v128.store(o, c2, 32);
        v128.store(o, c3, 48);
      }
      for (; j < vec; j += 4) {
        let c0 = f32x4.splat(0);
        let row = bb + (<usize>j << 2);
        for (let kk: u32 = 0; kk < k; kk++, row += rowBytes) {
          c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(ai + (<usize>kk << 2))), v128.load(row)));
        }
        v128.store(oi + (<usize>j << 2), c0);
      }
      for (; j < n; j++) {
        let c: f32 = 0;
        let at = bb + (<usize>j << 2);
        for (let kk: u32 = 0; kk < k; kk++, at += rowBytes) c += load<f32>(ai + (<usize>kk << 2)) * load<f32>(at);
        store<f32>(oi + (<usize>j << 2), c);
      }
    }
  }
}

// out [m, n] = x [k, m]^T dy [k, n]: a dense layer's weight gradient (x its input rows, dy its
// output gradient, k the rows of the batch, often 4,096-16,384 tokens). XNNPack needs x transposed
// in memory first and then streams k-long panels through cache for every output tile (about 6 GMAC/s
// at k = 16,384); here k is cut into blocks of K_BLOCK rows, whose x and dy rows stay in L2 while
// every 4 x 8 output tile accumulates over them, and x is read in place, untransposed.
const K_BLOCK: u32 = 256;

// out[i, j] += sum over rows k0 <= kk < k1 of x[kk, i] dy[kk, j]: matMulTransposedA's scalar tails.
@inline function addScalarProduct(x: usize, dy: usize, out: usize, k0: u32, k1: u32, m: u32, n: u32, i: u32, j: u32): void {
  let c: f32 = 0;
  for (let kk = k0; kk < k1; kk++) {
    c += load<f32>(x + ((<usize>kk * m + i) << 2)) * load<f32>(dy + ((<usize>kk * n + j) << 2));
  }
  const at = out + ((<usize>i * n + j) << 2);
  store<f32>(at, load<f32>(at) + c);
}

export function matMulTransposedA(x: usize, dy: usize, out: usize, k: u32, m: u32, n: u32): void {
  const xRow = <usize>m << 2;
  const dyRow = <usize>n << 2;
  const outRow = <usize>n << 2;
  memory.fill(out, 0, <usize>m * outRow);
  const m4 = m & ~3;
  const n8 = n & ~7;
  for (let k0: u32 = 0; k0 < k; k0 += K_BLOCK) {
    const k1 = min(k, k0 + K_BLOCK);
    for (let i: u32 = 0; i < m4; i += 4) {
      const o0 = out + <usize>i * outRow;
      for (let j: u32 = 0; j < n8; j += 8) {
        const o = o0 + (<usize>j << 2);
        let c00 = v128.load(o);
        let c01 = v128.load(o, 16);
        let c10 = v128.load(o + outRow);
        let c11 = v128.load(o + outRow, 16);
        let c20 = v128.load(o + 2 * outRow);
        let c21 = v128.load(o + 2 * outRow, 16);
        let c30 = v128.load(o + 3 * outRow);
        let c31 = v128.load(o + 3 * outRow, 16);
        let xp = x + <usize>k0 * xRow + (<usize>i << 2);
        let dp = dy + <usize>k0 * dyRow + (<usize>j << 2);
        for (let kk = k0; kk < k1; kk++, xp += xRow, dp += dyRow) {
          const b0 = v128.load(dp);
          const b1 = v128.load(dp, 16);
          const s0 = v128.load32_splat(xp);
          const s1 = v128.load32_splat(xp, 4);
          const s2 = v128.load32_splat(xp, 8);
          const s3 = v128.load32_splat(xp, 12);
          c00 = f32x4.add(c00, f32x4.mul(s0, b0));
          c01 = f32x4.add(c01, f32x4.mul(s0, b1));
          c10 = f32x4.add(c10, f32x4.mul(s1, b0));
          c11 = f32x4.add(c11, f32x4.mul(s1, b1));
          c20 = f32x4.add(c20, f32x4.mul(s2, b0));
          c21 = f32x4.add(c21, f32x4.mul(s2, b1));
          c30 = f32x4.add(c30, f32x4.mul(s3, b0));
          c31 = f32x4.add(c31, f32x4.mul(s3, b1));
        }
        v128.store(o, c00);
        v128.store(o, c01, 16);
        v128.store(o + outRow, c10);
        v128.store(o + outRow, c11, 16);
        v128.store(o + 2 * outRow, c20);
        v128.store(o + 2 * outRow, c21, 16);
        v128.store(o + 3 * outRow, c30);
        v128.store(o + 3 * outRow, c31, 16);
      }
      // Columns past the last multiple of 8, for these four rows.
      for (let j = n8; j < n; j++) {
        for (let r: u32 = 0; r < 4; r++) addScalarProduct(x, dy, out, k0, k1, m, n, i + r, j);
      }
    }
    // Rows past the last multiple of 4, every column.
    for (let i = m4; i < m; i++) {
      for (let j: u32 = 0; j < n; j++) addScalarProduct(x, dy, out, k0, k1, m, n, i, j);
    }
  }
}

// e^x for 4 lanes (Cephes expf: x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial in r, then the
// exponent n written into the float's bits); relative error about 2e-7. Past the float range it
// gives 0 and +Infinity; NaN stays NaN.
@inline function expLanes(x: v128): v128 {
  const big = f32x4.gt(x, f32x4.splat(88.72283));
  const tiny = f32x4.lt(x, f32x4.splat(-87.33654));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.442695041)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const y = f32x4.mul(p, scale);
  return v128.bitselect(f32x4.splat(Infinity), v128.andnot(y, tiny), big);
}

// out = e^x over len floats (the Exp kernel).
export function expVec(x: usize, out: usize, len: u32): void {
  const vec = len & ~3;
  let i: u32 = 0;
  for (; i < vec; i += 4) v128.store(out + (<usize>i << 2), expLanes(v128.load(x + (<usize>i << 2))));
  for (; i < len; i++) {
    store<f32>(out + (<usize>i << 2), f32x4.extract_lane(expLanes(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
  }
}

// erf with the cpu backend's formula (Abramowitz and Stegun 7.1.26: sign(x) (1 - poly(t) e^(-x^2)),
// t = 1 / (1 + p |x|), absolute error under 1.5e-7), 4 lanes at a time.
@inline function erfLanes(x: v128): v128 {
  const v = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.3275911), v)));
  let p = f32x4.splat(1.061405429);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.421413741));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.284496736));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.254829592));
  p = f32x4.mul(p, t);
  const e = f32x4.sub(f32x4.splat(1), f32x4.mul(p, expLanes(f32x4.neg(f32x4.mul(v, v)))));
  // The sign of x onto e (e >= 0): erf(-0) = -0 and NaN stays NaN, as sign(x) * e gives.
  return v128.or(e, v128.and(x, i32x4.splat(0x80000000)));
}

// out = erf(x) over len floats (the Erf kernel).
export function erfVec(x: usize, out: usize, len: u32): void {
  const vec = len & ~3;
  let i: u32 = 0;
  for (; i < vec; i += 4) v128.store(out + (<usize>i << 2), erfLanes(v128.load(x + (<usize>i << 2))));
  for (; i < len; i++) {
    store<f32>(out + (<usize>i << 2), f32x4.extract_lane(erfLanes(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
  }
}
