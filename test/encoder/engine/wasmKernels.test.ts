import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../encoder/engine/backend.js';
import { simdKernelsFor } from '../../../encoder/engine/simdKernels.js';
import {
  WASM_TRAINING_KERNELS,
  WEIGHT_GRADIENT_MIN_ROWS,
  wasmKernelLimits,
} from '../../../encoder/engine/wasmKernels.js';

type Fn = () => tf.Tensor | tf.Tensor[];

/** Runs fn on a backend and returns flat values of every output; also checks no tensor leaks. */
async function runOn(backend: string, fn: Fn): Promise<number[][]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const r = fn();
    return (Array.isArray(r) ? r : [r]).map((t) => Array.from(t.dataSync()));
  });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

/** Compares wasm against cpu: |wasm - cpu| <= rtol * max|cpu| per output. */
async function expectMatchesCpu(fn: Fn, rtol = 1e-4): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('wasm', fn);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, k) => {
    const g = got[k];
    expect(g.length).toBe(r.length);
    const scale = Math.max(1, ...r.map(Math.abs));
    let maxDiff = 0;
    for (let i = 0; i < r.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i] - r[i]));
    expect(maxDiff / scale).toBeLessThanOrEqual(rtol);
  });
}

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

beforeAll(async () => {
  const sel = await selectBackend('wasm');
  expect(sel.name).toBe('wasm');
});

describe('wasm training kernels are registered', () => {
  it('registers every kernel in WASM_TRAINING_KERNELS for wasm', () => {
    for (const k of WASM_TRAINING_KERNELS) expect(tf.getKernel(k.name, 'wasm')).toBeDefined();
  });
});

describe('Conv2D gradients (Conv2DBackpropFilter / Conv2DBackpropInput) match cpu', () => {
  const cases: Array<
    [string, number | [number, number], 'same' | 'valid' | tf.backend_util.ExplicitPadding, number[], number[]]
  > = [
    ['s1 same', 1, 'same', [2, 8, 9, 3], [3, 3, 3, 4]],
    ['s2 same', 2, 'same', [3, 9, 8, 2], [3, 3, 2, 5]],
    ['s2 valid', 2, 'valid', [2, 9, 9, 3], [3, 3, 3, 4]],
    ['s1 valid k5', 1, 'valid', [2, 7, 8, 4], [5, 5, 4, 3]],
    ['s3 same k2', 3, 'same', [2, 10, 11, 2], [2, 2, 2, 3]],
    ['s1 same k2', 1, 'same', [2, 7, 6, 3], [2, 2, 3, 4]],
    ['s1 same k4', 1, 'same', [2, 6, 7, 2], [4, 4, 2, 3]],
    // Patch convolutions (kernel = stride tiling the input: one matmul per gradient), and near misses.
    ['patch k2 s2', 2, 'valid', [3, 8, 10, 5], [2, 2, 5, 6]],
    ['patch k4 s4 (patch embedding)', 4, 'valid', [2, 8, 12, 3], [4, 4, 3, 7]],
    ['patch k2 s2 same, even size (no padding)', 2, 'same', [2, 6, 4, 3], [2, 2, 3, 4]],
    ['patch k2 s2, 512 patches (SIMD weight gradient)', 2, 'valid', [8, 16, 16, 4], [2, 2, 4, 8]],
    ['k2 s2 valid, odd height (not a tiling)', 2, 'valid', [2, 9, 8, 3], [2, 2, 3, 4]],
    // Strided input gradients by phases: two taps per phase, unequal strides, a phase with no tap.
    ['s2 same k4', 2, 'same', [2, 9, 8, 2], [4, 4, 2, 3]],
    ['s(2,3) same k3', [2, 3], 'same', [2, 9, 10, 3], [3, 3, 3, 4]],
    ['s4 valid k3', 4, 'valid', [2, 13, 12, 2], [3, 3, 2, 3]],
    ['s2 same k3, 576 output pixels (SIMD filter gradient)', 2, 'same', [4, 24, 23, 4], [3, 3, 4, 8]],
    [
      's1 explicit',
      1,
      [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
      [2, 6, 7, 3],
      [3, 3, 3, 2],
    ],
    [
      's2 explicit',
      2,
      [
        [0, 0],
        [2, 0],
        [1, 1],
        [0, 0],
      ],
      [2, 7, 7, 2],
      [3, 3, 2, 3],
    ],
  ];
  for (const [name, stride, pad, xShape, wShape] of cases) {
    const grads = () =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf
          .conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad)
          .square()
          .sum(),
      )([rnd(xShape, 1), rnd(wShape, 2)]);
    it(name, async () => {
      await expectMatchesCpu(grads);
    });
    it(`${name} (filter gradient reduced in one-image chunks)`, async () => {
      const saved = wasmKernelLimits.filterGradChunk;
      wasmKernelLimits.filterGradChunk = 1;
      try {
        await expectMatchesCpu(grads);
      } finally {
        wasmKernelLimits.filterGradChunk = saved;
      }
    });
    it(`${name} (filter gradient via conv, im2col disabled)`, async () => {
      const saved = wasmKernelLimits.im2colMaxElements;
      wasmKernelLimits.im2colMaxElements = 0;
      try {
        await expectMatchesCpu(grads);
      } finally {
        wasmKernelLimits.im2colMaxElements = saved;
      }
    });
  }

  it('fused conv2d + bias + relu, conv2dTranspose and separableConv2d', async () => {
    await expectMatchesCpu(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.fused
          .conv2d({
            x: x as tf.Tensor4D,
            filter: w as tf.Tensor4D,
            bias: b,
            activation: 'relu',
            strides: 1,
            pad: 'same',
          })
          .square()
          .sum(),
      )([rnd([2, 6, 6, 3], 3), rnd([3, 3, 3, 4], 4), rnd([4], 5)]),
    );
    await expectMatchesCpu(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf
          .conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 12, 12, 3], 2, 'same')
          .square()
          .sum(),
      )([rnd([2, 6, 6, 4], 6), rnd([3, 3, 3, 4], 7)]),
    );
    await expectMatchesCpu(() =>
      tf.grads((x: tf.Tensor, d: tf.Tensor, p: tf.Tensor) =>
        tf
          .separableConv2d(x as tf.Tensor4D, d as tf.Tensor4D, p as tf.Tensor4D, 1, 'same')
          .square()
          .sum(),
      )([rnd([2, 6, 6, 3], 8), rnd([3, 3, 3, 2], 9), rnd([1, 1, 6, 4], 10)]),
    );
  });
});

describe('DepthwiseConv2dNative gradients match cpu', () => {
  const cases: Array<[string, number, 'same' | 'valid', number[], number[]]> = [
    ['s1 same m1', 1, 'same', [2, 8, 9, 3], [3, 3, 3, 1]],
    ['s1 same m2', 1, 'same', [2, 8, 8, 3], [3, 3, 3, 2]],
    ['s2 same m2', 2, 'same', [3, 9, 8, 2], [3, 3, 2, 2]],
    ['s2 valid m1', 2, 'valid', [2, 9, 9, 4], [3, 3, 4, 1]],
    ['s1 valid k5 m3', 1, 'valid', [2, 8, 7, 2], [5, 5, 2, 3]],
  ];
  for (const [name, stride, pad, xShape, wShape] of cases) {
    it(name, async () => {
      await expectMatchesCpu(() =>
        tf.grads((x: tf.Tensor, w: tf.Tensor) =>
          tf
            .depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad)
            .square()
            .sum(),
        )([rnd(xShape, 11), rnd(wShape, 12)]),
      );
    });
  }

  it('dilation 2 (kernels called directly; reference = cpu gradient through an explicitly dilated filter)', async () => {
    // The tfjs gradient rejects dilation > 1 and the cpu backward kernels ignore dilation, so the
    // reference is the cpu gradient of a stride-1 depthwise conv with a zero-inserted 5x5 filter.
    const inputs = () => ({ x: rnd([2, 9, 8, 3], 13), dy: rnd([2, 9, 8, 6], 14), w: rnd([3, 3, 3, 2], 15) });
    const dilate = (w: tf.Tensor) =>
      w
        .reshape([3, 1, 3, 1, 3, 2])
        .pad([
          [0, 0],
          [0, 1],
          [0, 0],
          [0, 1],
          [0, 0],
          [0, 0],
        ])
        .reshape([6, 6, 3, 2])
        .slice([0, 0, 0, 0], [5, 5, 3, 2]);
    const ref = await runOn('cpu', () => {
      const { x, dy, w } = inputs();
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .depthwiseConv2d(a as tf.Tensor4D, dilate(b) as tf.Tensor4D, 1, 'same')
          .mul(dy)
          .sum(),
      )([x, w]);
      return [gw, gx];
    });
    const got = await runOn('wasm', () => {
      const { x, dy, w } = inputs();
      const attrs = { strides: 1, dilations: 2, pad: 'same' } as tf.NamedAttrMap;
      const dW = tf.engine().runKernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        {
          ...attrs,
          filterShape: [3, 3, 3, 2],
        },
      ) as tf.Tensor;
      const dX = tf.engine().runKernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: w },
        {
          ...attrs,
          inputShape: [2, 9, 8, 3],
        },
      ) as tf.Tensor;
      return [dW, dX];
    });
    ref.forEach((r, k) => {
      const scale = Math.max(1, ...r.map(Math.abs));
      const maxDiff = Math.max(...r.map((v, i) => Math.abs(v - got[k][i])));
      expect(maxDiff / scale).toBeLessThanOrEqual(1e-4);
    });
  });
});

describe('UnsortedSegmentSum and Einsum match cpu', () => {
  it('gather gradient (embedding lookup)', async () => {
    await expectMatchesCpu(() =>
      tf.grads((e: tf.Tensor) =>
        tf
          .gather(e, tf.tensor1d([0, 3, 3, 1, 0, 4], 'int32'))
          .square()
          .sum(),
      )([rnd([6, 3, 2], 16)]),
    );
  });

  it('unsortedSegmentSum drops out-of-range ids, float32 and int32', async () => {
    await expectMatchesCpu(() => [
      tf.unsortedSegmentSum(rnd([5, 4], 17), tf.tensor1d([2, 0, 2, 7, 1], 'int32'), 4),
      tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 3),
    ]);
  });

  it('einsum forms used by attention', async () => {
    await expectMatchesCpu(() => [
      tf.einsum('bij,bjk->bik', rnd([2, 3, 4], 18), rnd([2, 4, 5], 19)),
      tf.einsum('ij->ji', rnd([3, 4], 20)),
      tf.einsum('ij,ij->i', rnd([3, 4], 21), rnd([3, 4], 22)),
      tf.einsum('bhqd,bhkd->bhqk', rnd([2, 2, 3, 4], 23), rnd([2, 2, 5, 4], 24)),
    ]);
  });
});

describe('Tile / Sum / Mean replacements match cpu', () => {
  it('tile broadcast cases and fallback', async () => {
    await expectMatchesCpu(() => [
      tf.tile(rnd([1, 1, 1, 5], 25), [4, 3, 2, 1]),
      tf.tile(rnd([2, 3], 26), [3, 2]),
      tf.tile(rnd([2, 1, 3], 27), [1, 4, 1]),
      tf.tile(tf.tensor1d([1, 2, 3], 'int32'), [3]),
      tf.tile(rnd([2, 2, 2, 2, 2], 28), [2, 1, 2, 1, 2]),
    ]);
  });

  it('sum / mean over leading and other axes', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([8, 6, 7, 5], 29);
      return [
        tf.sum(x, [0, 1, 2]),
        tf.mean(x, [0, 1, 2]),
        tf.sum(x, [0, 1, 2], true),
        tf.mean(x, [0, 1, 2], true),
        tf.sum(x, [1, 2]),
        tf.sum(x, -1),
        tf.sum(x),
        tf.mean(x, 0),
        tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0),
      ];
    });
  });

  it('mean gradient (wasm: tiled dy / n) over leading, trailing, middle and all axes', async () => {
    for (const [axis, keepDims] of [
      [[0, 1, 2], false],
      [[0, 1, 2], true],
      [-1, false],
      [[1, 2], true],
      [1, false],
      [null, false],
    ] as Array<[number | number[] | null, boolean]>) {
      await expectMatchesCpu(() =>
        tf.grads((x: tf.Tensor) =>
          tf
            .mean(x, axis ?? undefined, keepDims)
            .square()
            .sum(),
        )([rnd([4, 5, 3, 6], 43)]),
      );
    }
  });

  it('cast to the same dtype and to another dtype', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([3, 4], 44);
      return [tf.cast(x, 'float32').add(1), tf.cast(x, 'int32'), tf.cast(tf.greater(x, 0), 'float32'), x];
    });
  });

  it('batchNorm forward (large: broadcast ops; small: stock), with and without scale/offset', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([4, 8, 8, 32], 45).mul(3).add(5);
      const mean = rnd([32], 46).add(5);
      const variance = rnd([32], 47).square().add(0.5);
      const scale = rnd([32], 48);
      const offset = rnd([32], 49);
      const small = rnd([2, 3, 3, 4], 50);
      return [
        tf.batchNorm(x, mean, variance, offset, scale, 1e-3),
        tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
        tf.batchNorm(
          x,
          mean.reshape([1, 1, 1, 32]),
          variance.reshape([1, 1, 1, 32]),
          offset.reshape([1, 1, 1, 32]),
          scale.reshape([1, 1, 1, 32]),
          1e-3,
        ),
        tf.batchNorm(small, tf.zeros([4]), tf.ones([4]), tf.ones([4]), tf.ones([4]).mul(2), 1e-3),
      ];
    });
  });

  it('batchNorm training gradient (moments + batchNorm)', async () => {
    await expectMatchesCpu(() =>
      tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf
          .batchNorm(x as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3)
          .relu()
          .square()
          .sum();
      })([rnd([8, 6, 6, 4], 30), rnd([4], 31), rnd([4], 32)]),
    );
  });
});

describe('small conv + attention net trains on wasm like on cpu', () => {
  it('all parameter gradients match cpu and no tensor leaks across steps', async () => {
    const net = (x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, wq: tf.Tensor, wo: tf.Tensor) => {
      let h = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same');
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm(h, mean, variance, tf.zeros([4]), tf.ones([4]), 1e-3).relu();
      h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
      h = tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same');
      // GELU (tanh form)
      h = h.mul(0.5).mul(tf.tanh(h.add(h.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
      const [n, hh, ww, c] = h.shape;
      const tokens = h.reshape([n, hh * ww, c]);
      const ln = tokens.sub(tokens.mean(-1, true)).div(tf.moments(tokens, -1, true).variance.add(1e-5).sqrt());
      const q = tf.matMul(ln.reshape([n * hh * ww, c]), wq).reshape([n, hh * ww, c]);
      const att = tf.softmax(tf.matMul(q, ln, false, true).div(Math.sqrt(c)));
      const o = tf.matMul(att, ln).mean(1);
      const logits = tf.matMul(o, wo);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 3, 0], 'int32'), 5), logits);
    };
    const fn = () =>
      tf.grads(net)([
        rnd([3, 8, 8, 3], 33),
        rnd([3, 3, 3, 4], 34),
        rnd([3, 3, 4, 6], 35),
        rnd([6, 6], 36),
        rnd([6, 5], 37),
      ]);
    await expectMatchesCpu(fn);
    // Repeated steps on wasm must not grow the tensor count.
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => void fn());
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Slice, SplitV and GatherV2 replacements match cpu', () => {
  it('slices of every rank, whole and partial dims, int32 and bool', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([3, 4, 5, 6], 70);
      return [
        tf.slice(x, [1, 0, 0, 0], [2, 4, 5, 6]),
        tf.slice(x, [0, 1, 2, 3], [3, 2, 3, 3]),
        tf.slice(x, [2, 3, 4, 5], [1, 1, 1, 1]),
        tf.slice(x, [0, 0, 1, 0], [3, 4, 2, 6]),
        tf.slice(x.reshape([12, 30]), [3, 7], [5, 11]),
        tf.slice(x.reshape([360]), [17], [100]),
        tf.slice(x.reshape([2, 3, 2, 5, 6]), [1, 0, 1, 1, 0], [1, 3, 1, 3, 6]),
        tf.slice(x, [0, 0, 0, 0], [3, 0, 5, 6]),
        tf.slice(x.toInt(), [1, 1, 1, 1], [2, 2, 2, 2]).toFloat(),
        tf.slice(tf.greater(x, 0), [0, 2, 0, 1], [3, 2, 5, 4]).toFloat(),
      ];
    });
  });

  it('split into equal and unequal parts along any axis, and its gradient', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([4, 6, 9], 71);
      return [...tf.split(x, 3, 2), ...tf.split(x, [1, 3, 2], 1), ...tf.split(x, 2, 0)];
    });
    await expectMatchesCpu(() =>
      tf.grads((x: tf.Tensor) => tf.split(x, [2, 7], 1)[1].square().sum())([rnd([3, 9, 4], 72)]),
    );
  });

  it('gather along each axis, repeated indices, and its gradient; out-of-range ids throw', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([3, 5, 4], 73);
      const ids = tf.tensor1d([4, 0, 0, 2], 'int32');
      return [
        tf.gather(x, ids, 1),
        tf.gather(x, tf.tensor1d([2, 1], 'int32'), 0),
        tf.gather(x, tf.tensor1d([3, 0, 0], 'int32'), 2),
      ];
    });
    await expectMatchesCpu(() =>
      tf.grads((x: tf.Tensor) =>
        tf
          .gather(x, tf.tensor1d([3, 1, 3], 'int32'), 1)
          .square()
          .sum(),
      )([rnd([2, 4, 3], 74)]),
    );
    await tf.setBackend('wasm');
    expect(() => tf.gather(rnd([2, 3], 75), tf.tensor1d([3], 'int32'), 1)).toThrow(/GatherV2: the index value 3/);
  });
});

describe('Equal replacement matches cpu', () => {
  it('broadcasts either operand, int32, and keeps NaN unequal, infinities and signed zeros equal', async () => {
    await expectMatchesCpu(() => {
      const x = rnd([2, 3, 4, 5], 60).round();
      return [
        tf.equal(x, tf.max(x, [1, 2], true)),
        tf.equal(tf.max(x, -1, true), x),
        tf.equal(x.toInt(), tf.scalar(0, 'int32')),
        tf.equal(
          tf.tensor1d([Number.NaN, Number.POSITIVE_INFINITY, -0, 1]),
          tf.tensor1d([Number.NaN, Number.POSITIVE_INFINITY, 0, 2]),
        ),
      ].map((t) => t.toFloat());
    });
  });

  it('the gradient of a max reduction', async () => {
    await expectMatchesCpu(() => tf.grads((x: tf.Tensor) => tf.max(x, [1, 2]).square().sum())([rnd([2, 4, 4, 3], 61)]));
  });
});

describe('BatchMatMul replacement matches cpu', () => {
  // [batch dims, m, k, n]: one product (transposes in memory), batches (SIMD: 16-column blocks,
  // 4-column vectors and a scalar tail), and broadcast batch dims (stock kernel).
  const cases: Array<[number[], number, number, number]> = [
    [[], 37, 21, 45],
    [[3], 9, 13, 35],
    [[2, 2], 5, 7, 16],
    [[4], 6, 3, 2],
  ];
  for (const [batch, m, k, n] of cases) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`batch [${batch}] ${m}x${k}x${n}, transposeA ${ta}, transposeB ${tb}`, async () => {
        await expectMatchesCpu(() => {
          const a = rnd([...batch, ...(ta ? [k, m] : [m, k])], 50);
          const b = rnd([...batch, ...(tb ? [n, k] : [k, n])], 51);
          return tf.matMul(a, b, ta, tb);
        });
      });
    }
  }

  // x^T dy with at least WEIGHT_GRADIENT_MIN_ROWS rows runs matMulTransposedA: 4 x 8 tiles, a
  // scalar tail of rows and of columns, and K blocks of 256 rows (the last one partial).
  for (const [batch, k, m, n] of [
    [[], 600, 37, 45],
    [[1], WEIGHT_GRADIENT_MIN_ROWS, 64, 192],
    [[], 1030, 3, 7],
  ] as Array<[number[], number, number, number]>) {
    it(`weight gradient x^T dy, batch [${batch}], k ${k}, ${m}x${n}`, async () => {
      await expectMatchesCpu(() => tf.matMul(rnd([...batch, k, m], 56), rnd([...batch, k, n], 57), true, false));
    });
  }

  it('matMulTransposedA itself, on tensors in the wasm heap, matches the cpu product', async () => {
    await tf.setBackend('wasm');
    const kernels = simdKernelsFor(tf.backend());
    if (kernels === undefined) throw new Error('SIMD kernels not attached');
    const [k, m, n] = [300, 9, 17];
    const x = rnd([k, m], 58);
    const dy = rnd([k, n], 59);
    const out = tf.zeros([m, n]);
    kernels.exports.matMulTransposedA(kernels.pointer(x), kernels.pointer(dy), kernels.pointer(out), k, m, n);
    const got = Array.from(out.dataSync());
    tf.dispose([x, dy, out]);
    const [want] = await runOn('cpu', () => tf.matMul(rnd([k, m], 58), rnd([k, n], 59), true, false));
    const scale = Math.max(1, ...want.map(Math.abs));
    expect(Math.max(...got.map((g, i) => Math.abs(g - want[i])))).toBeLessThanOrEqual(1e-4 * scale);
  });

  it('broadcast batch dimensions and the gradient of a batched product', async () => {
    await expectMatchesCpu(() => tf.matMul(rnd([1, 4, 5], 52), rnd([3, 5, 6], 53)));
    await expectMatchesCpu(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b).square().sum())([
        rnd([4, 8, 20], 54),
        rnd([4, 20, 18], 55),
      ]),
    );
  });
});

describe('Exp and Erf replacements match cpu', () => {
  // Lengths with and without a scalar tail; values across the range GELU and erf's own exp(-x^2)
  // see, plus the edges: 0, +-Infinity, NaN, past the float range.
  const edges = [0, -0, 1, -1, 88, 89, -87, -88, -104, Infinity, -Infinity, Number.NaN];
  for (const len of [1, 7, 4096]) {
    it(`Exp and Erf of ${len} values`, async () => {
      await expectMatchesCpu(() => tf.exp(tf.mul(rnd([len], 60), 6)), 1e-6);
      await expectMatchesCpu(() => tf.erf(tf.mul(rnd([len], 61), 3)), 1e-6);
    });
  }

  it('agrees elementwise in relative terms, and on the edges', async () => {
    const xs = tf.tidy(() => tf.concat([tf.linspace(-20, 20, 4001), tf.tensor1d(edges)]));
    const values = Array.from(xs.dataSync());
    xs.dispose();
    // exp: relative error; erf: absolute, since the cpu evaluates 1 - poly * e^(-x^2) in float64
    // and the kernel in float32 (the formula's own error is 1.5e-7).
    const bounds: Array<[typeof tf.exp, (w: number) => number]> = [
      [tf.exp, (w) => 2e-6 * Math.abs(w)],
      [tf.erf, () => 5e-7],
    ];
    for (const [op, bound] of bounds) {
      const [want] = await runOn('cpu', () => op(tf.tensor1d(values)));
      const [got] = await runOn('wasm', () => op(tf.tensor1d(values)));
      got.forEach((g, i) => {
        const w = want[i];
        if (Number.isNaN(w) || !Number.isFinite(w)) expect(g).toBe(w);
        else expect(Math.abs(g - w)).toBeLessThanOrEqual(bound(w) + 1e-38);
      });
    }
  });

  it('give GELU the same gradient as cpu', async () => {
    await expectMatchesCpu(() => {
      const x = tf.mul(rnd([64, 37], 62), 2);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mul(v, 0.5), tf.add(1, tf.erf(tf.div(v, Math.SQRT2))))))(x);
    }, 1e-5);
  });
});

describe('MaxPoolGrad replacement matches cpu', () => {
  it('runs 2x2 pools on the SIMD kernels, attached to the wasm backend', async () => {
    await tf.setBackend('wasm');
    expect(simdKernelsFor(tf.backend())).toBeDefined();
  });

  const cases: Array<[string, number, number, 'same' | 'valid', number[]]> = [
    ['2x2 s2 valid (SIMD: channel vectors and a scalar tail)', 2, 2, 'valid', [2, 8, 6, 5]],
    ['2x2 s2 valid (SIMD: channel vectors only)', 2, 2, 'valid', [3, 6, 4, 8]],
    ['2x2 s2 valid, odd size', 2, 2, 'valid', [2, 7, 9, 3]],
    ['2x2 s2 same, odd size', 2, 2, 'same', [2, 7, 9, 3]],
    ['3x3 s2 same (overlapping)', 3, 2, 'same', [2, 9, 8, 4]],
    ['3x3 s1 same', 3, 1, 'same', [1, 6, 7, 2]],
  ];
  for (const [name, k, stride, pad, shape] of cases) {
    it(name, async () => {
      // Rounded, relu'd inputs: many ties (zeros and equal values) test the first-maximum rule.
      await expectMatchesCpu(() => {
        const x = rnd(shape, 40).relu().mul(2).round();
        const y = tf.maxPool(x as tf.Tensor4D, k, stride, pad);
        const dy = rnd(y.shape, 41);
        return tf.engine().runKernel(
          'MaxPoolGrad',
          { dy, input: x, output: y },
          {
            filterSize: k,
            strides: stride,
            pad,
          },
        ) as tf.Tensor;
      });
      await expectMatchesCpu(() =>
        tf.grads((x: tf.Tensor) =>
          tf
            .maxPool(x as tf.Tensor4D, k, stride, pad)
            .square()
            .sum(),
        )([rnd(shape, 42)]),
      );
    });
  }

  it('-Infinity windows get no gradient', async () => {
    await expectMatchesCpu(() => {
      const x = tf.tensor4d([-Infinity, -Infinity, -Infinity, -Infinity, 1, -Infinity, 2, 3], [1, 2, 4, 1]);
      const dy = tf.tensor4d([5, 7], [1, 1, 2, 1]);
      const y = tf.maxPool(x, 2, 2, 'valid');
      return tf.engine().runKernel(
        'MaxPoolGrad',
        { dy, input: x, output: y },
        {
          filterSize: 2,
          strides: 2,
          pad: 'valid',
        },
      ) as tf.Tensor;
    });
  });
});
