/**
 * Training kernels the stock tfjs wasm backend (4.22) lacks or runs slowly.
 *
 * Stock wasm can run a conv net forward but not train it: `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter/Input`, `UnsortedSegmentSum` (gradient of gather) and `Einsum`
 * are not registered. Each kernel here is composed from existing wasm kernels (XNNPack convolutions,
 * transposes, reshapes), called directly as kernel functions so nothing goes through the engine or
 * the gradient tape; every intermediate is released before the kernel returns.
 *
 * `Conv2DBackpropInput` exists in stock wasm but is a naive loop; it is replaced by a forward
 * convolution of the (stride-dilated) output gradient with the flipped filter, which is faster.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
type Pads4 = [[number, number], [number, number], [number, number], [number, number]];

const BACKEND = 'wasm';

/** Stock wasm kernels replaced by ours (used as fallbacks for cases we do not specialise). */
const stockKernels = new Map<string, tf.KernelConfig>();

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
// = forward conv of x^T ([Ci,H,W,N], N as channels) with dy^T ([Ho,Wo,N,Co]) as filter,
//   dilation = stride, explicit padding = forward padding; result [Ci,kh',kw',Co] cropped to kh,kw.
// ---------------------------------------------------------------------------------------------
function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
  });
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput
// dx = conv(zeroInsert(dy, stride), flip(W) with in/out swapped), stride 1, explicit padding.
// ---------------------------------------------------------------------------------------------
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
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
    const wFlip = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const wT = s.transpose(wFlip, [0, 1, 3, 2]);
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
function depthwiseBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
function depthwiseBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
function einsum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
function tile(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo {
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
  const stock = stockKernels.get('Tile');
  const canBroadcast = (x.dtype === 'float32' || x.dtype === 'int32') && dims.length <= 4;
  if (!canBroadcast || tf.util.sizeFromShape(outShape) === 0) {
    if (stock === undefined) throw new Error('Tile (wasm): unsupported case and no stock kernel');
    return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  }
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
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const k = axes.length;
    const isPrefix = axes.every((a, i) => a === i);
    const reduceSize = tf.util.sizeFromShape(x.shape.slice(0, k));
    const rest = tf.util.sizeFromShape(x.shape.slice(k));
    if (x.dtype !== 'float32' || !isPrefix || k === 0 || k === x.shape.length || reduceSize < LEADING_REDUCE_MIN) {
      const stock = stockKernels.get(kernelName);
      if (stock === undefined) throw new Error(`${kernelName} (wasm): stock kernel missing`);
      return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as TensorInfo;
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

type KernelFn = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs }) => TensorInfo;

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
  registered = false;
}

/** The stock wasm kernel that `registerWasmTrainingKernels` replaced, if any (for tests/benchmarks). */
export function stockWasmKernel(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}
