/**
 * Micro-benchmark of single wasm kernels (ours vs stock, filter-gradient chunk sizes), steady state,
 * on the layer shapes of the bench/engine/throughput.ts CNN (batch 128).
 *   npx tsx bench/engine/kernels.ts [MaxPoolGrad] [Conv2DBackpropFilter] [Conv2DBackpropInput]
 *                                          [Conv2D] [Conv2DBackpropFilterViaConv]
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../encoder/engine/backend.js';
import { stockWasmKernel } from '../../encoder/engine/wasmKernels.js';

await selectBackend('wasm');
const only = process.argv.slice(2);

function time(label: string, fn: () => tf.Tensor | tf.Tensor[], reps = 5): number {
  tf.tidy(() => void fn());
  const t = performance.now();
  for (let i = 0; i < reps; i++) tf.tidy(() => void fn());
  const ms = (performance.now() - t) / reps;
  console.log(`${label.padEnd(60)} ${ms.toFixed(1)} ms`);
  return ms;
}

function withStock<T>(name: string, fn: () => T): T {
  const ours = tf.getKernel(name, 'wasm');
  const stock = stockWasmKernel(name);
  if (ours === undefined || stock === undefined) throw new Error(`no stock ${name}`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(stock);
  try {
    return fn();
  } finally {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(ours);
  }
}

const layers: Array<[number[], number]> = [
  [[128, 32, 32, 3], 32],
  [[128, 16, 16, 32], 64],
  [[128, 8, 8, 64], 128],
];

const want = (n: string) => only.length === 0 || only.includes(n);

if (want('MaxPoolGrad')) {
  for (const [shape, co] of layers) {
    const xs = [shape[0], shape[1], shape[2], co];
    const x = tf.randomNormal(xs).relu();
    const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
    const dy = tf.randomNormal(y.shape);
    const run = () =>
      tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy, input: x, output: y },
          { filterSize: 2, strides: 2, pad: 'valid' },
        ) as tf.Tensor;
    time(`MaxPoolGrad ours ${xs}`, run);
    withStock('MaxPoolGrad', () => time(`MaxPoolGrad stock ${xs}`, run, 2));
  }
}

if (want('Conv2DBackpropFilter') || want('Conv2DBackpropInput') || want('Conv2D')) {
  for (const [shape, co] of layers) {
    const x = tf.randomNormal(shape);
    const dy = tf.randomNormal([shape[0], shape[1], shape[2], co]);
    const w = tf.randomNormal([3, 3, shape[3], co]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    if (want('Conv2DBackpropFilter')) {
      const { wasmKernelLimits } = await import('../../encoder/engine/wasmKernels.js');
      // dy is fresh on every call, as in training (XNNPack repacks it then).
      for (const chunk of [1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20]) {
        wasmKernelLimits.filterGradChunk = chunk;
        time(
          `Conv2DBackpropFilter chunk ${chunk} ${shape} -> ${co}`,
          () =>
            tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy.add(0) }, {
              ...attrs,
              filterShape: [3, 3, shape[3], co],
            } as tf.NamedAttrMap) as tf.Tensor,
        );
      }
      wasmKernelLimits.filterGradChunk = 1 << 19;
    }
    if (want('Conv2DBackpropInput')) {
      const run = () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
          ...attrs,
          inputShape: shape,
        } as tf.NamedAttrMap) as tf.Tensor;
      time(`Conv2DBackpropInput ours ${shape} <- ${co}`, run);
      withStock('Conv2DBackpropInput', () => time(`Conv2DBackpropInput stock ${shape} <- ${co}`, run, 1));
    }
    if (want('Conv2D')) {
      time(`Conv2D fwd ${shape} -> ${co}`, () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
    }
  }
}

if (want('Conv2DBackpropFilterViaConv')) {
  const { wasmKernelLimits } = await import('../../encoder/engine/wasmKernels.js');
  const saved = wasmKernelLimits.im2colMaxElements;
  wasmKernelLimits.im2colMaxElements = 0;
  for (const [shape, co] of layers) {
    const x = tf.randomNormal(shape);
    const dy = tf.randomNormal([shape[0], shape[1], shape[2], co]);
    time(
      `Conv2DBackpropFilter via conv ${shape} -> ${co}`,
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, shape[3], co] },
          ) as tf.Tensor,
      2,
    );
  }
  wasmKernelLimits.im2colMaxElements = saved;
}
