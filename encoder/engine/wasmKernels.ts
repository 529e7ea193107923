/**
 * Training kernels the stock tfjs wasm backend (4.22) lacks or runs slowly.
 *
 * Stock wasm can run a conv net forward but not train it: `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter/Input`, `UnsortedSegmentSum` (gradient of gather) and `Einsum`
 * are not registered. Each kernel here is composed from existing wasm kernels (XNNPack convolutions
 * and matmuls, reshapes), plain JS loops over the wasm heap and the SIMD kernels of simdKernels.ts,
 * called directly as kernel functions so nothing goes through the engine or the gradient tape; every
 * intermediate is released before the kernel returns.
 *
 * `Conv2DBackpropFilter` is an im2col (built in JS) times dy as untransposed XNNPack matmuls.
 * Replaced stock kernels (see WASM_TRAINING_KERNELS for why): `Conv2DBackpropInput` (naive loop ->
 * forward convolution of the stride-dilated output gradient with the flipped filter), `MaxPoolGrad`,
 * `Tile`, `Sum`/`Mean` over leading axes, `Identity` and same-dtype `Cast` (share instead of copy),
 * `BatchMatMul` (transposed or batched products), `Equal`, `Slice`, `SplitV` and `GatherV2`.
 * On wasm the gradient of `Mean` is also replaced (see installMeanGradient). Measure with
 * `bench/engine/throughput.ts --profile` (per-kernel times) and `bench/engine/kernels.ts` (ours vs stock).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type SimdKernels, simdKernelsFor } from './simdKernels.js';

type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs };
type Pads4 = [[number, number], [number, number], [number, number], [number, number]];

const BACKEND = 'wasm';

/** Stock wasm kernels replaced by ours (used as fallbacks for cases we do not specialise). */
const stockKernels = new Map<string, tf.KernelConfig>();

/** Runs the stock kernel `name` replaced, for the cases ours does not handle. */
function stockFallback(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const stock = stockKernels.get(name);
  if (stock === undefined) throw new Error(`${name} (wasm): unsupported case and no stock kernel`);
  return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as TensorInfo | TensorInfo[];
}

/** Runs other wasm kernels directly and remembers their outputs so they can be released together. */
class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs = {}): TensorInfo {
    const config = tf.getKernel(kernelName, BACKEND);
    if (config === undefined) {
      throw new Error(`wasmKernels: kernel '${kernelName}' is not registered for backend '${BACKEND}'`);
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** A new (uninitialised) output buffer, released with the other intermediates. */
  make(shape: number[], dtype: tf.DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    if (tf.util.arraysEqual(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && tf.util.arraysEqual(x.shape, size)) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor, so callers can pass
   * the remaining non-negative padding on to the convolution.
   */
  cropNegative(x: TensorInfo, pads: Pads4): { x: TensorInfo; pads: Pads4 } {
    const begin = [0, 0, 0, 0];
    const size = [...x.shape];
    const rest = pads.map(([a, b]) => [a, b]) as Pads4;
    let crop = false;
    for (const axis of [1, 2]) {
      const [lo, hi] = pads[axis];
      if (lo < 0) {
        begin[axis] = -lo;
        size[axis] += lo;
        rest[axis][0] = 0;
        crop = true;
      }
      if (hi < 0) {
        size[axis] += hi;
        rest[axis][1] = 0;
        crop = true;
      }
    }
    return { x: crop ? this.slice(x, begin, size) : x, pads: rest };
  }

  /** Releases one intermediate early (it must not be used afterwards). */
  release(t: TensorInfo): void {
    const i = this.temps.indexOf(t);
    if (i < 0) return;
    this.temps.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Releases every intermediate except `keep` (the kernel's output). */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.temps) {
      if (t !== keep) this.backend.disposeData(t.dataId);
    }
    this.temps.length = 0;
    return keep;
  }

  /** Releases everything (used on error). */
  abort(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

function scoped(backend: BackendWasm, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const s = new KernelScope(backend);
  try {
    return s.finish(body(s));
  } catch (err) {
    s.abort();
    throw err;
  }
}

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type RoundAttr = 'floor' | 'round' | 'ceil' | undefined;

/** Dilate an NHWC tensor spatially by inserting (stride - 1) zeros after every element. */
function zeroInsert(s: KernelScope, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const x6 = s.reshape(x, [n, h, 1, w, 1, c]);
  const p = s.pad(x6, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  // Trailing zeros after the last row/column are harmless: callers crop them via the padding.
  return s.reshape(p, [n, h * sh, w * sw, c]);
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter
// dW[a,b,ci,co] = sum_{n,i,j} x[n, i*sh + a - pt, j*sw + b - pl, ci] * dy[n,i,j,co]
// = im2col^T x dy: one large untransposed matmul (default), or, for very large inputs, a forward
//   conv of the transposed tensors (see backpropFilterViaConv).
// ---------------------------------------------------------------------------------------------
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: number | [number, number];
    pad: PadAttr;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode: RoundAttr;
    filterShape: [number, number, number, number];
  };
  return scoped(backend, (s) => {
    let xs = x;
    let dys = dy;
    if (attrs.dataFormat === 'NCHW') {
      xs = s.transpose(x, [0, 2, 3, 1]);
      dys = s.transpose(dy, [0, 2, 3, 1]);
    }
    const info = tf.backend_util.computeConv2DInfo(
      xs.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    if (isPatchConv(info)) return patchBackpropFilter(s, xs, dys, info);
    const [n, ho, wo] = dys.shape;
    const rows = info.filterHeight * info.filterWidth * info.inChannels;
    if (rows * n * ho * wo <= wasmKernelLimits.im2colMaxElements) {
      const strided = info.strideHeight > 1 || info.strideWidth > 1;
      if (strided && simdKernelsFor(backend) !== undefined) return backpropFilterPatches(s, xs, dys, info);
      return backpropFilterIm2col(s, xs, dys, info);
    }
    return backpropFilterViaConv(s, xs, dys, info);
  });
}

// ---------------------------------------------------------------------------------------------
// Patch convolutions (kernel = stride, no padding, the kernels tile the input exactly: patch
// embedding, Swin's patch merging) have no overlap, so both gradients are one matmul and a 4-D
// transpose, with patches = x as [N*Ho*Wo, kh*kw*Ci] (row (n, i, j), column (a, b, ci)):
//   dW = patches^T dy (matMulTransposedA), dx = patches laid back from dy W^T.
// The general paths would build im2col element by element, or convolve a zero-inserted dy whose
// entries are three quarters zeros at stride 2.
// ---------------------------------------------------------------------------------------------
function isPatchConv(info: tf.backend_util.Conv2DInfo): boolean {
  const { padInfo: p } = info;
  return (
    info.filterHeight === info.strideHeight &&
    info.filterWidth === info.strideWidth &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    p.top === 0 &&
    p.left === 0 &&
    p.bottom === 0 &&
    p.right === 0 &&
    info.inHeight === info.outHeight * info.strideHeight &&
    info.inWidth === info.outWidth * info.strideWidth
  );
}

/**
 * x [N, H, W, Ci] as patches [N*Ho*Wo, kh*kw*Ci] of a patch convolution: viewed as
 * [N*Ho, kh, Wo, kw*Ci], one transpose swapping kh and Wo (cheaper than backpropFilterPatches'
 * copies of Ci-float runs when Ci is small, as in a patch embedding of RGB pixels).
 */
function patchRows(s: KernelScope, x: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw, inChannels: ci } = info;
  const patches = s.transpose(s.reshape(x, [n * ho, kh, wo, kw * ci]), [0, 2, 1, 3]);
  return s.reshape(patches, [n * ho * wo, kh * kw * ci]);
}

function patchBackpropFilter(s: KernelScope, xs: TensorInfo, dys: TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const { batchSize: n, outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { inChannels: ci, outChannels: co } = info;
  const dw = s.run(
    'BatchMatMul',
    { a: patchRows(s, xs, info), b: s.reshape(dys, [n * ho * wo, co]) },
    { transposeA: true, transposeB: false },
  );
  return s.reshape(dw, [kh, kw, ci, co]);
}

function patchBackpropInput(s: KernelScope, dys: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const { batchSize: n, outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { inChannels: ci, outChannels: co, inHeight: h, inWidth: w } = info;
  const rows = s.run(
    'BatchMatMul',
    { a: s.reshape(dys, [n * ho * wo, co]), b: s.reshape(filter, [kh * kw * ci, co]) },
    { transposeA: false, transposeB: true },
  );
  const laid = s.transpose(s.reshape(rows, [n * ho, wo, kh, kw * ci]), [0, 2, 1, 3]);
  return s.reshape(laid, [n, h, w, ci]);
}

/**
 * Tunables, mutable for tests and benchmarks. im2colMaxElements: largest im2col buffer (floats) the
 * conv filter gradient builds; above it the (slower, buffer-free) conv formulation is used.
 * filterGradChunk: the filter gradient reduces over whole images in chunks of about this many
 * dy elements (at least one image per chunk).
 */
export const wasmKernelLimits = { im2colMaxElements: 1 << 25, filterGradChunk: 1 << 19 };

/**
 * Transposes a row-major [rows, cols] block of `src` (from element `srcOff`) into `dst` as [cols, rows]
 * (from `dstOff`), in tiles so that both sides stay in cache.
 */
export function transpose2D(
  src: Float32Array | Int32Array,
  srcOff: number,
  rows: number,
  cols: number,
  dst: Float32Array | Int32Array,
  dstOff: number,
): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let c = c0; c < c1; c++) {
        let si = srcOff + r0 * cols + c;
        let di = dstOff + c * rows + r0;
        for (let r = r0; r < r1; r++, si += cols, di++) dst[di] = src[si];
      }
    }
  }
}

/**
 * Strided convolutions: dW ([kh*kw*Ci, Co]) = patches^T dy, patches [N*Ho*Wo, kh*kw*Ci] built row by
 * row from runs of Ci channels (contiguous in NHWC), 0 in the padding; the product is the SIMD
 * weight-gradient kernel (BatchMatMul with transposeA). At stride > 1 the [taps, pixels] im2col below
 * is built element by element, and its product streams long rows through XNNPack.
 */
function backpropFilterPatches(s: KernelScope, xs: TensorInfo, dys: TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inChannels: ci, outChannels: co } = info;
  const [n, h, w] = xs.shape;
  const [, ho, wo] = dys.shape;
  const { top: pt, left: pl } = info.padInfo;
  const taps = kh * kw * ci;
  const outPix = ho * wo;
  const imagesPerChunk = Math.max(1, Math.floor(wasmKernelLimits.filterGradChunk / (outPix * co)));
  let total: TensorInfo | undefined;
  for (let n0 = 0; n0 < n; n0 += imagesPerChunk) {
    const nc = Math.min(imagesPerChunk, n - n0);
    const dyc = s.slice(dys, [n0, 0, 0, 0], [nc, ho, wo, co]);
    const patches = s.make([nc * outPix, taps]);
    // Views only after every allocation: a growing heap detaches older ones.
    const { heap, at: patchesAt } = heapView(s, patches);
    const xAt = heapView(s, xs).at;
    for (let img = 0; img < nc; img++) {
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const row = patchesAt + ((img * ho + i) * wo + j) * taps;
          for (let a = 0; a < kh; a++) {
            const hh = i * sh + a - pt;
            for (let b = 0; b < kw; b++) {
              const ww = j * sw + b - pl;
              const to = row + (a * kw + b) * ci;
              if (hh < 0 || hh >= h || ww < 0 || ww >= w) heap.fill(0, to, to + ci);
              else {
                const from = xAt + (((n0 + img) * h + hh) * w + ww) * ci;
                heap.copyWithin(to, from, from + ci);
              }
            }
          }
        }
      }
    }
    const part = s.run(
      'BatchMatMul',
      { a: patches, b: s.reshape(dyc, [nc * outPix, co]) },
      { transposeA: true, transposeB: false },
    );
    s.release(patches);
    total = total === undefined ? part : s.run('Add', { a: total, b: part });
  }
  return s.reshape(total as TensorInfo, [kh, kw, ci, co]);
}

/**
 * dW ([kh*kw*Ci, Co]) = colsT ([kh*kw*Ci, N*Ho*Wo]) x dy ([N*Ho*Wo, Co]) as untransposed matmuls
 * (XNNPack fully connected, the fast case). colsT row (a, b, ci) holds x[n, i*sh + a - pt,
 * j*sw + b - pl, ci] for all (n, i, j), 0 in the padding; it is built from a channel-major copy of x
 * ([Ci, N*H*W]), so every row is a shifted copy of one channel plane (memmoves for stride 1 'same').
 * The reduction runs over chunks of whole images: XNNPack repacks the `dy` operand on every call
 * (slow when it is large) and small chunks stay in cache between building and multiplying.
 */
function backpropFilterIm2col(s: KernelScope, xs: TensorInfo, dys: TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: ci } = info;
  const { outChannels: co } = info;
  const [n, h, w] = xs.shape;
  const [, ho, wo] = dys.shape;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const rows = kh * kw * ci;
  const hw = h * w;
  const plane = n * hw;
  const outPix = ho * wo;
  const samePlane = sh === 1 && sw === 1 && ho === h && wo === w;
  const xT = s.make([ci, plane]);
  transpose2D(
    s.backend.typedArrayFromHeap(xs) as Float32Array,
    0,
    plane,
    ci,
    s.backend.typedArrayFromHeap(xT) as Float32Array,
    0,
  );
  const imagesPerChunk = Math.max(1, Math.floor(wasmKernelLimits.filterGradChunk / (outPix * co)));
  const acc = new Float32Array(rows * co);
  for (let n0 = 0; n0 < n; n0 += imagesPerChunk) {
    const nc = Math.min(imagesPerChunk, n - n0);
    const k = nc * outPix;
    const colsT = s.make([rows, k]);
    const dyc = nc === n ? dys : s.make([k, co]);
    // Element offsets from heapView: a heap over 2 GiB has byte offsets past 2^31, where `>> 2` wraps.
    const { heap, at: cBase } = heapView(s, colsT) as { heap: Float32Array; at: number };
    if (dyc !== dys) {
      const dyOff = heapView(s, dys).at;
      heap.copyWithin(heapView(s, dyc).at, dyOff + n0 * outPix * co, dyOff + (n0 + nc) * outPix * co);
    }
    const xBase = heapView(s, xT).at + n0 * hw;
    const xStart = xBase - n0 * hw;
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const da = a - pt;
        const db = b - pl;
        // Output rows i / columns j whose input row i*sh + da / column j*sw + db is inside the image.
        const iLo = Math.min(ho, Math.max(0, Math.ceil(-da / sh)));
        const iHi = Math.max(iLo, Math.min(ho, Math.floor((h - 1 - da) / sh) + 1));
        const jLo = Math.min(wo, Math.max(0, Math.ceil(-db / sw)));
        const jHi = Math.max(jLo, Math.min(wo, Math.floor((w - 1 - db) / sw) + 1));
        for (let c = 0; c < ci; c++) {
          const row = cBase + ((a * kw + b) * ci + c) * k;
          const src = xBase + c * plane;
          if (samePlane) {
            // Row = the channel plane shifted by d = da*w + db (reads clamped to this channel's plane);
            // then zero whatever fell outside each image.
            const d = da * w + db;
            const lo = Math.max(0, xStart + c * plane - (src + d));
            const hi = Math.min(k, xStart + (c + 1) * plane - (src + d));
            heap.copyWithin(row + lo, src + lo + d, src + hi + d);
            if (lo > 0) heap.fill(0, row, row + lo);
            if (hi < k) heap.fill(0, row + hi, row + k);
            for (let nn = 0; nn < nc; nn++) {
              const img = row + nn * hw;
              if (iLo > 0) heap.fill(0, img, img + iLo * w);
              if (iHi < h) heap.fill(0, img + iHi * w, img + hw);
              if (jLo > 0 || jHi < w) {
                for (let i = iLo; i < iHi; i++) {
                  const r = img + i * w;
                  for (let j = 0; j < jLo; j++) heap[r + j] = 0;
                  for (let j = jHi; j < w; j++) heap[r + j] = 0;
                }
              }
            }
            continue;
          }
          for (let nn = 0; nn < nc; nn++) {
            const img = row + nn * outPix;
            if (iLo > 0) heap.fill(0, img, img + iLo * wo);
            if (iHi < ho) heap.fill(0, img + iHi * wo, img + outPix);
            for (let i = iLo; i < iHi; i++) {
              const r = img + i * wo;
              for (let j = 0; j < jLo; j++) heap[r + j] = 0;
              for (let j = jHi; j < wo; j++) heap[r + j] = 0;
              let q = src + (nn * h + i * sh + da) * w + jLo * sw + db;
              for (let j = jLo; j < jHi; j++, q += sw) heap[r + j] = heap[q];
            }
          }
        }
      }
    }
    const a3 = s.reshape(colsT, [1, rows, k]);
    const b3 = s.reshape(dyc, [1, k, co]);
    const part = s.run('BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false });
    if (nc === n) return s.reshape(part, [kh, kw, ci, co]);
    const pv = s.backend.typedArrayFromHeap(part) as Float32Array;
    for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
    for (const t of [part, a3, b3, colsT, dyc]) s.release(t);
  }
  const out = s.make([kh, kw, ci, co]);
  (s.backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/**
 * The same gradient as a forward conv of x^T ([Ci,H,W,N], N as channels) with dy^T ([Ho,Wo,N,Co])
 * as filter, dilation = stride, explicit padding = forward padding; result [Ci,kh',kw',Co] cropped
 * to kh,kw. Needs no large buffer, but is several times slower (two transposes, odd conv shapes).
 */
function backpropFilterViaConv(s: KernelScope, xs: TensorInfo, dys: TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels, outChannels } = info;
  const [, ho, wo] = dys.shape;
  const { top, bottom, left, right } = info.padInfo;
  // Only the part of the padded input the forward conv touched matters: rows up to (ho-1)*sh + kh.
  const hp = xs.shape[1] + top + bottom;
  const wp = xs.shape[2] + left + right;
  const needH = (ho - 1) * sh + kh;
  const needW = (wo - 1) * sw + kw;
  const cropped = s.cropNegative(s.transpose(xs, [3, 1, 2, 0]), [
    [0, 0],
    [top, bottom - Math.max(0, hp - needH)],
    [left, right - Math.max(0, wp - needW)],
    [0, 0],
  ]);
  const dyT = s.transpose(dys, [1, 2, 0, 3]);
  const r = s.run('Conv2D', { x: cropped.x, filter: dyT }, {
    strides: [1, 1],
    pad: cropped.pads,
    dataFormat: 'NHWC',
    dilations: [sh, sw],
  } as Attrs);
  const rc = s.slice(r, [0, 0, 0, 0], [inChannels, kh, kw, outChannels]);
  return s.transpose(rc, [1, 2, 0, 3]);
}

/** wT[a, b, co, ci] = w[kh-1-a, kw-1-b, ci, co] in one JS pass (stock wasm Reverse + Transpose are slow). */
function flipSwapFilter(s: KernelScope, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = s.make([kh, kw, co, ci], filter.dtype);
  const ov = s.backend.typedArrayFromHeap(out) as Float32Array;
  const wv = s.backend.typedArrayFromHeap(filter) as Float32Array;
  const taps = kh * kw;
  for (let t = 0; t < taps; t++) {
    transpose2D(wv, (taps - 1 - t) * ci * co, ci, co, ov, t * ci * co);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Strided Conv2DBackpropInput by phases. Input row h takes dy[i] w[a] exactly when h + pt = i*sh + a,
// so the rows of one phase p = (h + pt) mod sh see only the taps a = p, p + sh, ...; each of the
// sh*sw phases is a stride-1 correlation of dy with its sub-filter (flipped, in/out swapped), and
// its output fills every sh-th row and sw-th column of dx. The zero-insertion form below would
// spend 1 - 1/(sh*sw) of its work on inserted zeros (three quarters at stride 2).
// ---------------------------------------------------------------------------------------------
function phaseBackpropInput(
  s: KernelScope,
  dys: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, ho, wo] = dys.shape;
  const { top: pt, left: pl } = info.padInfo;
  const dx = s.make([n, h, w, ci]);
  const phases: Array<{ out: TensorInfo; ph: number; pw: number; hLo: number; wLo: number }> = [];
  for (let ph = 0; ph < sh; ph++) {
    for (let pw = 0; pw < sw; pw++) {
      const kph = Math.ceil((kh - ph) / sh);
      const kpw = Math.ceil((kw - pw) / sw);
      // Phase rows h = sh*H + ph - pt inside the image, for H in [hLo, hHi]; likewise columns.
      const hLo = Math.ceil((pt - ph) / sh);
      const hHi = Math.floor((h - 1 + pt - ph) / sh);
      const wLo = Math.ceil((pl - pw) / sw);
      const wHi = Math.floor((w - 1 + pl - pw) / sw);
      if (kph <= 0 || kpw <= 0 || hHi < hLo || wHi < wLo) continue; // no taps or no rows: dx stays 0
      const sub = s.make([kph, kpw, ci, co]);
      const subView = s.backend.typedArrayFromHeap(sub) as Float32Array;
      const wView = s.backend.typedArrayFromHeap(filter) as Float32Array;
      const tap = ci * co;
      for (let m = 0; m < kph; m++) {
        for (let q = 0; q < kpw; q++) {
          const from = ((ph + sh * m) * kw + pw + sw * q) * tap;
          subView.set(wView.subarray(from, from + tap), (m * kpw + q) * tap);
        }
      }
      // Output H reads dy rows H - kph + 1 .. H: pad (or crop) dy so that output 0 is H = hLo.
      const padded = s.cropNegative(dys, [
        [0, 0],
        [kph - 1 - hLo, hHi - (ho - 1)],
        [kpw - 1 - wLo, wHi - (wo - 1)],
        [0, 0],
      ]);
      const out = s.run('Conv2D', { x: padded.x, filter: flipSwapFilter(s, sub) }, {
        strides: [1, 1],
        pad: padded.pads,
        dataFormat: 'NHWC',
        dilations: [1, 1],
      } as Attrs);
      phases.push({ out, ph, pw, hLo, wLo });
    }
  }
  // Views only after every allocation: a growing heap detaches older ones.
  const { heap, at: dxAt } = heapView(s, dx);
  heap.fill(0, dxAt, dxAt + n * h * w * ci);
  for (const { out, ph, pw, hLo, wLo } of phases) {
    const [, hp, wp] = out.shape;
    const outAt = heapView(s, out).at;
    for (let img = 0; img < n; img++) {
      for (let o = 0; o < hp; o++) {
        const row = sh * (hLo + o) + ph - pt;
        for (let q = 0; q < wp; q++) {
          const col = sw * (wLo + q) + pw - pl;
          const src = outAt + ((img * hp + o) * wp + q) * ci;
          heap.copyWithin(dxAt + ((img * h + row) * w + col) * ci, src, src + ci);
        }
      }
    }
  }
  return dx;
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput
// dx = conv(dy, flip(W) with in/out swapped), stride 1, explicit padding; strided ones by phases
// (above) unless they are patch convolutions (one matmul).
// ---------------------------------------------------------------------------------------------
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: number | [number, number];
    pad: PadAttr;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode: RoundAttr;
    inputShape: [number, number, number, number];
  };
  return scoped(backend, (s) => {
    const nchw = attrs.dataFormat === 'NCHW';
    const inShape = (
      nchw ? [attrs.inputShape[0], attrs.inputShape[2], attrs.inputShape[3], attrs.inputShape[1]] : attrs.inputShape
    ) as [number, number, number, number];
    const dys = nchw ? s.transpose(dy, [0, 2, 3, 1]) : dy;
    const info = tf.backend_util.computeConv2DInfo(
      inShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    if (isPatchConv(info)) {
      const dx = patchBackpropInput(s, dys, filter, info);
      return nchw ? s.transpose(dx, [0, 3, 1, 2]) : dx;
    }
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
    if (sh > 1 || sw > 1) {
      const dx = phaseBackpropInput(s, dys, filter, info);
      return nchw ? s.transpose(dx, [0, 3, 1, 2]) : dx;
    }
    const u = zeroInsert(s, dys, sh, sw);
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = inHeight + kh - 1 - top - u.shape[1];
    const right = inWidth + kw - 1 - left - u.shape[2];
    const cropped = s.cropNegative(u, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
    const wT = flipSwapFilter(s, filter);
    const dx = s.run('Conv2D', { x: cropped.x, filter: wT }, {
      strides: [1, 1],
      pad: cropped.pads,
      dataFormat: 'NHWC',
      dilations: [1, 1],
    } as Attrs);
    return nchw ? s.transpose(dx, [0, 3, 1, 2]) : dx;
  });
}

// ---------------------------------------------------------------------------------------------
// DepthwiseConv2dNativeBackpropFilter (filter [kh,kw,C,M], dy [N,Ho,Wo,C*M])
// dW[a,b,c,m] = sum_{n,i,j} x[n, i*sh + a*dh - pt, j*sw + b*dw - pl, c] * dy[n,i,j,c*M+m]
// = depthwise conv over a batch-1 image with N*C channels, filter = dy ([Ho,Wo,N*C,M]),
//   filter dilation = forward stride, conv stride = forward dilation; then sum over N.
// ---------------------------------------------------------------------------------------------
function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: number | [number, number];
    dilations: number | [number, number];
    pad: PadAttr;
    dimRoundingMode: RoundAttr;
    filterShape: [number, number, number, number];
  };
  return scoped(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const [kh, kw, c, m] = attrs.filterShape;
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const { top, bottom, left, right } = info.padInfo;
    const hp = h + top + bottom;
    const wp = w + left + right;
    const needH = (ho - 1) * sh + (kh - 1) * dh + 1;
    const needW = (wo - 1) * sw + (kw - 1) * dw + 1;
    const xT = s.reshape(s.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
    const cropped = s.cropNegative(xT, [
      [0, 0],
      [top, bottom - Math.max(0, hp - needH)],
      [left, right - Math.max(0, wp - needW)],
      [0, 0],
    ]);
    const dy5 = s.reshape(dy, [n, ho, wo, c, m]);
    const dyT = s.reshape(s.transpose(dy5, [1, 2, 0, 3, 4]), [ho, wo, n * c, m]);
    const r = s.run('DepthwiseConv2dNative', { x: cropped.x, filter: dyT }, {
      strides: [dh, dw],
      pad: cropped.pads,
      dilations: [sh, sw],
    } as Attrs);
    // r: [1, kh', kw', N*C*M] -> [kh, kw, N, C*M] -> sum over N.
    const rc = s.slice(r, [0, 0, 0, 0], [1, kh, kw, n * c * m]);
    const r4 = s.reshape(rc, [kh, kw, n, c * m]);
    const summed = s.run('Sum', { x: r4 }, { axis: [2], keepDims: false });
    return s.reshape(summed, [kh, kw, c, m]);
  });
}

// ---------------------------------------------------------------------------------------------
// DepthwiseConv2dNativeBackpropInput
// dx[n,h,w,c] = sum_m depthwise(zeroInsert(dy), flip(W) as [kh,kw,C*M,1], dilation d)[..., c*M+m]
// ---------------------------------------------------------------------------------------------
function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: number | [number, number];
    dilations: number | [number, number];
    pad: PadAttr;
    dimRoundingMode: RoundAttr;
    inputShape: [number, number, number, number];
  };
  return scoped(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const [kh, kw, c, m] = filter.shape;
    const [n, h, w] = attrs.inputShape;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const u = zeroInsert(s, dy, sh, sw);
    const top = (kh - 1) * dh - info.padInfo.top;
    const left = (kw - 1) * dw - info.padInfo.left;
    const bottom = h + (kh - 1) * dh - top - u.shape[1];
    const right = w + (kw - 1) * dw - left - u.shape[2];
    const cropped = s.cropNegative(u, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
    const wFlip = s.reshape(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, c * m, 1]);
    const r = s.run('DepthwiseConv2dNative', { x: cropped.x, filter: wFlip }, {
      strides: [1, 1],
      pad: cropped.pads,
      dilations: [dh, dw],
    } as Attrs);
    if (m === 1) return r;
    const r5 = s.reshape(r, [n, h, w, c, m]);
    return s.run('Sum', { x: r5 }, { axis: [4], keepDims: false });
  });
}

// ---------------------------------------------------------------------------------------------
// UnsortedSegmentSum (gradient of Gather): a plain accumulation loop over wasm heap views.
// Ids outside [0, numSegments) are dropped, as in TensorFlow.
// ---------------------------------------------------------------------------------------------
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const idsRank = segmentIds.shape.length;
  const nIds = tf.util.sizeFromShape(segmentIds.shape);
  const inner = tf.util.sizeFromShape(x.shape.slice(idsRank));
  const outShape = [numSegments, ...x.shape.slice(idsRank)];
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  if (x.dtype !== 'int32' && x.dtype !== 'float32') {
    throw new Error(`UnsortedSegmentSum (wasm): unsupported dtype ${x.dtype}`);
  }
  // Allocate first: allocation may grow the wasm heap and detach earlier views.
  const out = backend.makeOutput(outShape, dtype);
  const outV = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  outV.fill(0);
  const xV = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const idV = backend.typedArrayFromHeap(segmentIds) as Int32Array | Float32Array;
  for (let i = 0; i < nIds; i++) {
    const id = idV[i];
    if (id < 0 || id >= numSegments) continue;
    const src = i * inner;
    const dst = id * inner;
    for (let k = 0; k < inner; k++) outV[dst + k] += xV[src + k];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Einsum: the CPU backend's algorithm (transpose / reshape / multiply / sum) on wasm kernels.
// ---------------------------------------------------------------------------------------------
function einsum(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { equation } = args.attrs as { equation: string };
  const tensors = args.inputs as unknown as TensorInfo[];
  const bu = tf.backend_util;
  const { allDims, summedDims, idDims } = bu.decodeEinsumEquation(equation, tensors.length);
  bu.checkEinsumDimSizes(allDims.length, idDims, tensors as unknown as tf.Tensor[]);
  const { path, steps } = bu.getEinsumComputePath(summedDims, idDims);
  return scoped(backend, (s) => {
    let out: TensorInfo | null = null;
    let numDimsRemaining = allDims.length;
    for (let i = 0; i < steps.length; ++i) {
      for (const idTerm of steps[i]) {
        const { permutationIndices: perm, expandDims } = bu.getEinsumPermutation(numDimsRemaining, idDims[idTerm]);
        let x = s.transpose(tensors[idTerm], perm);
        const target = [...x.shape];
        for (const d of expandDims) target.splice(d, 0, 1);
        x = s.reshape(x, target);
        out = out === null ? x : s.run('Multiply', { a: x, b: out });
      }
      if (i < steps.length - 1) {
        if (path[i] >= 0 && out !== null) {
          out = s.run('Sum', { x: out }, { axis: path[i] - (allDims.length - numDimsRemaining), keepDims: false });
        }
        numDimsRemaining--;
      }
    }
    if (out === null) throw new Error(`Einsum (wasm): empty equation '${equation}'`);
    // An untouched input must not be returned as-is (the engine would alias it): copy it.
    if (tensors.includes(out)) out = s.run('Identity', { x: out });
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Tile (used by the FusedBatchNorm gradient to broadcast 1/sqrt(var) to the full activation):
// stock wasm Tile is an element-by-element loop. Tiling is a broadcast: out viewed as
// [r0, s0, r1, s1, ...] equals x ([1, s0, 1, s1, ...]) + zeros ([r0, 1, r1, 1, ...]); after merging
// adjacent dims of the same kind this is a rank-2/3 broadcast Add, which XNNPack does fast.
// ---------------------------------------------------------------------------------------------
function tile(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  const reps = (args.attrs as { reps: number[] }).reps;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const dims: Array<{ size: number; kind: 'x' | 'z' }> = [];
  x.shape.forEach((d, i) => {
    for (const e of [
      { size: reps[i], kind: 'z' as const },
      { size: d, kind: 'x' as const },
    ]) {
      if (e.size === 1) continue;
      const last = dims[dims.length - 1];
      if (last !== undefined && last.kind === e.kind) last.size *= e.size;
      else dims.push({ ...e });
    }
  });
  const canBroadcast = (x.dtype === 'float32' || x.dtype === 'int32') && dims.length <= 4;
  if (!canBroadcast || tf.util.sizeFromShape(outShape) === 0) return stockFallback('Tile', args) as TensorInfo;
  return scoped(backend, (s) => {
    if (!dims.some((d) => d.kind === 'z')) return s.reshape(s.run('Identity', { x }), outShape);
    const xShape = dims.map((d) => (d.kind === 'x' ? d.size : 1));
    const zShape = dims.map((d) => (d.kind === 'z' ? d.size : 1));
    const zeros = s.run('Fill', {}, { shape: zShape, value: 0, dtype: x.dtype });
    const sum = s.run('Add', { a: s.reshape(x, xShape), b: zeros });
    return s.reshape(sum, outShape);
  });
}

// ---------------------------------------------------------------------------------------------
// Sum / Mean over leading axes (BatchNorm statistics and gradients reduce [N,H,W] of NHWC):
// stock wasm transposes the reduced axes innermost first (a slow full copy) then loops. A reduction
// over a leading prefix of axes is a global average pool over a [1, R, 1, C] view (about 10x faster).
// ---------------------------------------------------------------------------------------------
const LEADING_REDUCE_MIN = 256;

function reduceLeading(kernelName: 'Sum' | 'Mean') {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const k = axes.length;
    const isPrefix = axes.every((a, i) => a === i);
    const reduceSize = tf.util.sizeFromShape(x.shape.slice(0, k));
    const rest = tf.util.sizeFromShape(x.shape.slice(k));
    if (x.dtype !== 'float32' || !isPrefix || k === 0 || k === x.shape.length || reduceSize < LEADING_REDUCE_MIN) {
      return stockFallback(kernelName, args) as TensorInfo;
    }
    const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    return scoped(backend, (s) => {
      // Global average pooling over a [1, R, 1, C] view: no transpose, XNNPack multipass pooling.
      const x4 = s.reshape(x, [1, reduceSize, 1, rest]);
      const mean = s.run('AvgPool', { x: x4 }, { filterSize: [reduceSize, 1], strides: [1, 1], pad: 'valid' });
      if (kernelName === 'Mean') return s.reshape(mean, outShape);
      const scale = s.run('Fill', {}, { shape: [], value: reduceSize, dtype: 'float32' });
      return s.reshape(s.run('Multiply', { a: mean, b: scale }), outShape);
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Slice, SplitV, GatherV2: the stock kernels copy row by row through a new subarray per row
// (Slice, and SplitV through it) or element by element (Gather), about 10-100 ns per element: a
// qkv split or a shifted-window gather took 30-60 ms per step. Here every contiguous run is one
// copyWithin on a view of the whole heap. Strings stay on the stock kernels.
// ---------------------------------------------------------------------------------------------
/** A view of the whole heap in `t`'s element type, and `t`'s first element in it. */
function heapView(s: KernelScope, t: TensorInfo): { heap: Float32Array | Int32Array | Uint8Array; at: number } {
  const view = s.backend.typedArrayFromHeap(t) as Float32Array | Int32Array | Uint8Array;
  const Ctor = view.constructor as Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;
  return { heap: new Ctor(view.buffer as ArrayBuffer), at: view.byteOffset / view.BYTES_PER_ELEMENT };
}

function sliceInHeap(s: KernelScope, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const rank = x.shape.length;
  const out = s.make(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // The innermost copy: the last dim not taken whole (whole implies begin 0), and every dim after it.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === x.shape[inner]) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const src = heapView(s, x);
  const dst = heapView(s, out);
  const index = new Array(inner).fill(0);
  let to = dst.at;
  for (;;) {
    let from = src.at + begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) from += (begin[d] + index[d]) * strides[d];
    dst.heap.copyWithin(to, from, from + run);
    to += run;
    let d = inner - 1;
    while (d >= 0 && ++index[d] === size[d]) index[d--] = 0;
    if (d < 0) return out;
  }
}

function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return stockFallback('Slice', args) as TensorInfo;
  const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
  const [b, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  return scoped(args.backend as BackendWasm, (s) => sliceInHeap(s, x, b, sz));
}

function splitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return stockFallback('SplitV', args) as TensorInfo[];
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  // Every part is an output, so the scope is never finished (nothing of it is released).
  const s = new KernelScope(args.backend as BackendWasm);
  const begin = new Array(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = x.shape.map((d, i) => (i === ax ? n : d));
    const part = sliceInHeap(s, x, [...begin], size);
    begin[ax] += n;
    return part;
  });
}

function gatherV2(args: KernelArgs): TensorInfo {
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
  if (x.dtype === 'string' || batchDims !== 0) return stockFallback('GatherV2', args) as TensorInfo;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  const dim = x.shape[ax];
  const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
  return scoped(args.backend as BackendWasm, (s) => {
    const out = s.make([...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)], x.dtype);
    const ids = s.backend.typedArrayFromHeap(indices) as Int32Array;
    for (const id of ids) {
      if (!(id >= 0 && id < dim)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${dim - 1}]`);
    }
    const src = heapView(s, x);
    const dst = heapView(s, out);
    let to = dst.at;
    for (let o = 0; o < outer; o++) {
      for (const id of ids) {
        const from = src.at + (o * dim + id) * inner;
        dst.heap.copyWithin(to, from, from + inner);
        to += inner;
      }
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Equal: the stock wasm kernel takes about 200 ns per element (170 ms for one [32, 32, 32, 32]
// comparison), and the gradient of every max reduction (CBAM's max pooling) compares activations
// with the broadcast maximum. Here: both operands broadcast with the fast Tile above, then one JS
// pass. Bool operands stay on the stock kernel.
// ---------------------------------------------------------------------------------------------
function equal(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  if (a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'int32')) {
    return stockFallback('Equal', args) as TensorInfo;
  }
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  return scoped(backend, (s) => {
    const full = (t: TensorInfo): TensorInfo => {
      const shape = [...new Array(outShape.length - t.shape.length).fill(1), ...t.shape];
      if (tf.util.arraysEqual(shape, outShape)) return t;
      const reps = outShape.map((d, i) => d / shape[i]);
      return s.run('Tile', { x: s.reshape(t, shape) }, { reps });
    };
    const [fa, fb] = [full(a), full(b)];
    const out = s.make(outShape, 'bool');
    // Views only after every allocation: a growing heap detaches older ones.
    const av = s.backend.typedArrayFromHeap(fa) as Float32Array | Int32Array;
    const bv = s.backend.typedArrayFromHeap(fb) as Float32Array | Int32Array;
    const ov = s.backend.typedArrayFromHeap(out) as Uint8Array;
    for (let i = 0; i < ov.length; i++) ov[i] = av[i] === bv[i] ? 1 : 0;
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul: the stock kernel is fast (XNNPack) only for one product without transposes; with a
// transposed operand (every dense layer's gradient) or a batch (attention) it runs about 10x
// slower. Here a dense layer's weight gradient (one product, only A transposed, many rows: x^T dy)
// runs the K-blocked SIMD kernel matMulTransposedA, other transposed operands are transposed once
// in memory for XNNPack, and batches run on the SIMD kernel (simdKernels.ts). Broadcast batch
// dimensions and other dtypes stay on the stock kernel.
// ---------------------------------------------------------------------------------------------
/** Rows (K) from which x^T dy runs matMulTransposedA rather than a transpose and XNNPack. */
export const WEIGHT_GRADIENT_MIN_ROWS = 512;

function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const simd = simdKernelsFor(backend);
  const batch = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const plain = batch === 1 && !transposeA && !transposeB;
  const supported = a.dtype === 'float32' && b.dtype === 'float32' && a.shape.length >= 2 && b.shape.length >= 2;
  const sameBatch = tf.util.arraysEqual(a.shape.slice(0, -2), b.shape.slice(0, -2));
  // Without the SIMD kernels a single transposed product still runs (transpose, then XNNPack); batches do not.
  if (plain || !supported || !sameBatch || (batch > 1 && simd === undefined)) {
    return stockFallback('BatchMatMul', args) as TensorInfo;
  }
  return scoped(backend, (s) => {
    const rowsOf = (t: TensorInfo) => t.shape[t.shape.length - 2];
    const colsOf = (t: TensorInfo) => t.shape[t.shape.length - 1];
    // Row-major [batch, rows, cols] operands, transposed in memory where the attribute asks.
    const untransposed = (t: TensorInfo, transposed: boolean): TensorInfo => {
      if (!transposed) return t;
      const [rows, cols] = [rowsOf(t), colsOf(t)];
      const out = s.make([batch, cols, rows]);
      const src = s.backend.typedArrayFromHeap(t) as Float32Array;
      const dst = s.backend.typedArrayFromHeap(out) as Float32Array;
      for (let i = 0; i < batch; i++) transpose2D(src, i * rows * cols, rows, cols, dst, i * rows * cols);
      return out;
    };
    if (batch === 1 && transposeA && !transposeB && simd !== undefined && rowsOf(a) >= WEIGHT_GRADIENT_MIN_ROWS) {
      const out = s.make([...a.shape.slice(0, -2), colsOf(a), colsOf(b)]);
      simd.exports.matMulTransposedA(
        simd.pointer(a),
        simd.pointer(b),
        simd.pointer(out),
        rowsOf(a),
        colsOf(a),
        colsOf(b),
      );
      return out;
    }
    const left = untransposed(a, transposeA);
    const right = untransposed(b, transposeB);
    const m = transposeA ? colsOf(a) : rowsOf(a);
    const k = transposeA ? rowsOf(a) : colsOf(a);
    const n = transposeB ? rowsOf(b) : colsOf(b);
    const outShape = [...a.shape.slice(0, -2), m, n];
    if (batch === 1) {
      const a3 = s.reshape(left, [1, m, k]);
      const b3 = s.reshape(right, [1, k, n]);
      return s.reshape(s.run('BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false }), outShape);
    }
    const out = s.make(outShape);
    const batched = simd as SimdKernels; // batch > 1 here, so attached (checked above)
    batched.exports.batchMatMul(batched.pointer(left), batched.pointer(right), batched.pointer(out), batch, m, k, n);
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad: stock wasm is a slow generic loop. Here: 2x2 / stride 2 pools (the common case) run
// the SIMD kernel (simdKernels.ts), others one JS pass over the pooling windows (NHWC, channels
// innermost) on wasm heap views. Each output's gradient goes to the first strict maximum of its
// window in row-major order, exactly like the cpu backend (ties, -Infinity windows included).
// ---------------------------------------------------------------------------------------------
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: PadAttr;
    dimRoundingMode: RoundAttr;
  };
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
    return stockFallback('MaxPoolGrad', args) as TensorInfo;
  }
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(input.shape, 'float32');
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(input) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const simd = simdKernelsFor(backend);
  if (simd && fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && ho * 2 <= h && wo * 2 <= w) {
    // The common 2x2 / stride 2 / valid case: one SIMD pass that writes every covered value.
    if (ho * 2 < h || wo * 2 < w) dx.fill(0);
    simd.exports.maxPoolGrad2x2(simd.pointer(input), simd.pointer(dy), simd.pointer(out), n, h, w, c, ho, wo);
    return out;
  }
  dx.fill(0);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const r0 = i * sh - top;
      const rLo = Math.max(0, r0);
      const rHi = Math.min(h, r0 + fh);
      for (let j = 0; j < wo; j++) {
        const c0 = j * sw - left;
        const cLo = Math.max(0, c0);
        const cHi = Math.min(w, c0 + fw);
        for (let d = 0; d < c; d++, o++) {
          let m = Number.NEGATIVE_INFINITY;
          let best = -1;
          for (let r = rLo; r < rHi; r++) {
            let q = ((b * h + r) * w + cLo) * c + d;
            for (let cc = cLo; cc < cHi; cc++, q += c) {
              const v = xv[q];
              if (v > m) {
                m = v;
                best = q;
              }
            }
          }
          if (best >= 0) dx[best] += dyv[o];
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Identity: stock wasm copies the data; tensors are immutable, so (like the cpu backend) share it.
// Keras layers, casts to the same dtype and the gradient tape call it ~100 times per training step.
// ---------------------------------------------------------------------------------------------
function identity(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') {
    return stockFallback('Identity', args) as TensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

// ---------------------------------------------------------------------------------------------
// Cast to the same dtype (the ReLU gradient casts its float32 step mask): share the data like the
// cpu backend instead of copying. Other casts go to the stock kernel.
// ---------------------------------------------------------------------------------------------
function cast(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as { dtype: tf.DataType };
  if (dtype === x.dtype && dtype !== 'string') return identity(args);
  return stockFallback('Cast', args) as TensorInfo;
}

// ---------------------------------------------------------------------------------------------
// Gradient of Mean (BatchNorm statistics: two per BatchNorm layer and step). The tfjs gradient is
// dy * ones(x.shape) / n, with `ones` filled element by element in JS and copied into wasm memory
// (about 30 ms for a 128x32x32x32 activation). On wasm it is tile(dy / n) instead: the same values,
// one fast broadcast. Other backends keep the stock gradient.
// ---------------------------------------------------------------------------------------------
let stockMeanGrad: tf.GradConfig | undefined;

function installMeanGradient(): void {
  const stock = tf.getGradient('Mean');
  if (stock === undefined || stockMeanGrad !== undefined) return;
  stockMeanGrad = stock;
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() !== BACKEND) return stock.gradFunc(dy, saved, attrs);
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const reps = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
      const reduceSize = axes.reduce((p, a) => p * x.shape[a], 1);
      return {
        x: () => tf.tile(tf.div(tf.reshape(dy as tf.Tensor, expanded), reduceSize), reps),
      };
    },
  });
}

function uninstallMeanGradient(): void {
  if (stockMeanGrad === undefined) return;
  tf.registerGradient(stockMeanGrad);
  stockMeanGrad = undefined;
}

// ---------------------------------------------------------------------------------------------
// FusedBatchNorm (forward): stock wasm is a scalar loop. (x - mean) * (scale / sqrt(var + eps)) + offset
// as three XNNPack broadcast ops on the activation (the per-channel factor is computed on [C]).
// ---------------------------------------------------------------------------------------------
const BATCHNORM_MIN = 4096;

function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, mean, variance, offset, scale } = args.inputs as {
    x: TensorInfo;
    mean: TensorInfo;
    variance: TensorInfo;
    offset?: TensorInfo | null;
    scale?: TensorInfo | null;
  };
  const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
  const ins = [x, mean, variance, offset, scale].filter((t): t is TensorInfo => t != null);
  if (ins.some((t) => t.dtype !== 'float32') || tf.util.sizeFromShape(x.shape) < BATCHNORM_MIN) {
    return stockFallback('FusedBatchNorm', args) as TensorInfo;
  }
  return scoped(backend, (s) => {
    const epsT = s.run('Fill', {}, { shape: [], value: eps, dtype: 'float32' });
    let factor = s.run('Rsqrt', { x: s.run('Add', { a: variance, b: epsT }) });
    if (scale != null) factor = s.run('Multiply', { a: factor, b: scale });
    const scaled = s.run('Multiply', { a: s.run('Sub', { a: x, b: mean }), b: factor });
    const out = offset != null ? s.run('Add', { a: scaled, b: offset }) : scaled;
    // Broadcasting never grows x here (stats are per channel), but keep the declared output shape.
    return s.reshape(out, x.shape);
  });
}

// ---------------------------------------------------------------------------------------------
// Exp, Erf: stock wasm computes them one element at a time (about 7 ns each); GELU (attention MLPs)
// runs both on every hidden activation, forward and backward. The SIMD kernels use the cpu backend's
// erf formula and a Cephes-style exp (relative error about 2e-7).
// ---------------------------------------------------------------------------------------------
function elementwise(name: 'Exp' | 'Erf', kernel: 'expVec' | 'erfVec'): KernelFn {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const simd = simdKernelsFor(backend);
    if (x.dtype !== 'float32' || simd === undefined) return stockFallback(name, args) as TensorInfo;
    return scoped(backend, (s) => {
      const out = s.make([...x.shape]);
      simd.exports[kernel](simd.pointer(x), simd.pointer(out), tf.util.sizeFromShape(x.shape));
      return out;
    });
  };
}

type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** The kernels this module provides, and why. */
export const WASM_TRAINING_KERNELS: ReadonlyArray<{ name: string; why: string; fn: KernelFn }> = [
  { name: 'Conv2DBackpropFilter', why: 'missing in stock wasm (conv2d filter gradient)', fn: conv2DBackpropFilter },
  {
    name: 'Conv2DBackpropInput',
    why: 'stock wasm version is a naive loop; replaced by an XNNPack forward conv',
    fn: conv2DBackpropInput,
  },
  {
    name: 'DepthwiseConv2dNativeBackpropFilter',
    why: 'missing in stock wasm (depthwise/separable conv filter gradient)',
    fn: depthwiseBackpropFilter,
  },
  {
    name: 'DepthwiseConv2dNativeBackpropInput',
    why: 'missing in stock wasm (depthwise/separable conv input gradient)',
    fn: depthwiseBackpropInput,
  },
  {
    name: 'UnsortedSegmentSum',
    why: 'missing in stock wasm (gradient of gather / embedding lookup)',
    fn: unsortedSegmentSum,
  },
  { name: 'Einsum', why: 'missing in stock wasm (forward einsum)', fn: einsum },
  { name: 'Tile', why: 'stock wasm Tile is an element loop; BatchNorm gradient tiles full activations', fn: tile },
  {
    name: 'Sum',
    why: 'stock wasm transposes before reducing; leading-axis sums (BatchNorm) become one matmul',
    fn: reduceLeading('Sum'),
  },
  { name: 'Mean', why: 'as Sum (BatchNorm batch statistics)', fn: reduceLeading('Mean') },
  {
    name: 'Identity',
    why: 'stock wasm Identity copies; shares the data instead (as the cpu backend does)',
    fn: identity,
  },
  { name: 'Cast', why: 'a cast to the same dtype shares the data instead of copying it', fn: cast },
  {
    name: 'FusedBatchNorm',
    why: 'stock wasm BatchNorm is a scalar loop; three XNNPack broadcast ops instead',
    fn: fusedBatchNorm,
  },
  { name: 'Slice', why: 'stock wasm Slice makes a subarray per row; one copyWithin per contiguous run', fn: slice },
  { name: 'SplitV', why: 'as Slice (the qkv split of attention)', fn: splitV },
  { name: 'GatherV2', why: 'stock wasm Gather copies element by element (shifted windows)', fn: gatherV2 },
  { name: 'Equal', why: 'stock wasm Equal takes about 200 ns per element (max-reduction gradients)', fn: equal },
  { name: 'Exp', why: 'stock wasm Exp is a scalar loop (GELU gradient, erf)', fn: elementwise('Exp', 'expVec') },
  { name: 'Erf', why: 'stock wasm Erf is a scalar loop (GELU)', fn: elementwise('Erf', 'erfVec') },
  {
    name: 'BatchMatMul',
    why: 'stock wasm is fast only untransposed and unbatched; transposes in memory, batches on SIMD',
    fn: batchMatMul,
  },
  {
    name: 'MaxPoolGrad',
    why: 'stock wasm MaxPoolGrad is a slow generic loop; a SIMD pass (2x2) or one JS pass over the windows',
    fn: maxPoolGrad,
  },
];

let registered = false;

/**
 * Registers the training kernels for backend 'wasm'. Idempotent. Stock kernels that get replaced
 * are remembered (see `stockWasmKernel`) so they can be compared against.
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered) return WASM_TRAINING_KERNELS.map((k) => k.name);
  for (const { name, fn } of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(name, BACKEND);
    if (existing !== undefined) {
      stockKernels.set(name, existing);
      tf.unregisterKernel(name, BACKEND);
    }
    // Keep the stock setupFunc: it binds the wasm function our fallback path calls, and it only
    // runs (at backend initialisation) for kernels registered at that time.
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      kernelFunc: fn as tf.KernelFunc,
      ...(existing?.setupFunc ? { setupFunc: existing.setupFunc } : {}),
      ...(existing?.disposeFunc ? { disposeFunc: existing.disposeFunc } : {}),
    });
  }
  installMeanGradient();
  registered = true;
  return WASM_TRAINING_KERNELS.map((k) => k.name);
}

/** Restores the stock wasm kernel set (removes ours, puts back the replaced ones). */
export function unregisterWasmTrainingKernels(): void {
  if (!registered) return;
  for (const { name } of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
    const stock = stockKernels.get(name);
    if (stock !== undefined) tf.registerKernel(stock);
  }
  stockKernels.clear();
  uninstallMeanGradient();
  registered = false;
}

/** The stock wasm kernel that `registerWasmTrainingKernels` replaced, if any (for tests/benchmarks). */
export function stockWasmKernel(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}
