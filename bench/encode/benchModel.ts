// The model the encode benchmarks hash with: the default-size 32 px cnnHash at 64 bits, random
// weights (inference speed does not depend on training), weight-only int8 as `edgehash export`
// writes it and as the edge hashes queries with it (an index must use its queries' model).
import { exportHashModel } from '../../encoder/export/exportModel.js';
import { buildModelCard } from '../../encoder/export/modelCard.js';
import { quantizeModel } from '../../encoder/export/quantize.js';
import { createModel } from '../../encoder/models/index.js';
import type { ModelCard } from '../../schemas/modelCard.js';

export const BENCH_BITS = 64;

export async function benchModel(): Promise<{ float: Uint8Array; int8: Uint8Array; card: ModelCard }> {
  const model = createModel({
    architecture: 'cnnHash',
    bits: BENCH_BITS,
    inputSize: 32,
    channels: 3,
    numClasses: 10,
    seed: 0,
  });
  const exported = exportHashModel(model);
  const quantized = await quantizeModel(exported.onnx);
  const card = buildModelCard({
    modelId: 'bench-cnn-64-int8',
    config: model.config,
    onnx: { ...exported, bytes: quantized.onnx },
    quantization: quantized.quantization,
    normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261] },
  });
  return { float: exported.onnx, int8: quantized.onnx, card };
}
