// Initialises a model's weights from a user-supplied pretrained file (safetensors or the initializers
// of an ONNX file). The mapping names, for each model weight (tfjs name such as "block1_conv/kernel"),
// its source tensor and an optional axis permutation (PyTorch conv [O, I, H, W] -> tfjs [H, W, I, O]
// is [2, 3, 1, 0]; PyTorch linear [out, in] -> [in, out] is [1, 0]). Without a mapping, names are
// matched as they are. Weights the mapping does not name (the hash layer, typically) keep their
// initialisation and are reported. docs/pretrained.md documents the mappings.
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { readWeightFile, type SourceTensors, WeightFileError } from './weightFiles.js';

export interface MappedWeight {
  source: string;
  transpose?: number[];
}
/** Model weight name -> source tensor name (or name + permutation). */
export type WeightMapping = Record<string, string | MappedWeight>;

export interface PretrainedReport {
  loaded: string[];
  /** Model weights left at their initialisation. */
  untouched: string[];
}

export function applyPretrained(
  net: tf.LayersModel,
  sources: SourceTensors,
  file: string,
  mapping?: WeightMapping,
): PretrainedReport {
  const weights = new Map(net.weights.map((w) => [w.originalName, w]));
  const plan: [string, MappedWeight][] = mapping
    ? Object.entries(mapping).map(([target, m]) => [target, typeof m === 'string' ? { source: m } : m])
    : [...weights.keys()].filter((name) => sources.has(name)).map((name) => [name, { source: name }]);
  if (plan.length === 0) {
    throw new WeightFileError(file, 'no tensor name matches a model weight; give a mapping (see docs/pretrained.md)');
  }
  const values = plan.map(([target, { source, transpose }]) => {
    const weight = weights.get(target);
    if (!weight) throw new WeightFileError(file, `mapping names model weight ${target}, which the model does not have`);
    const tensor = sources.get(source);
    if (!tensor) throw new WeightFileError(file, `tensor ${source} (for ${target}) is missing`);
    return tf.tidy(() => {
      let t: tf.Tensor = tf.tensor(tensor.values, tensor.shape);
      if (transpose) {
        if (transpose.length !== tensor.shape.length) {
          throw new WeightFileError(
            file,
            `tensor ${source}: permutation [${transpose}] does not fit shape [${tensor.shape}]`,
          );
        }
        t = tf.transpose(t, transpose);
      }
      // Size-1 axes may differ (PyTorch's pos_embed is [1, T, C], ours [T, C]).
      const squeezed = (shape: readonly (number | null)[]) => shape.filter((d) => d !== 1) as number[];
      if (tf.util.arraysEqual(squeezed(t.shape), squeezed(weight.shape) as number[]))
        t = tf.reshape(t, weight.shape as number[]);
      if (!tf.util.arraysEqual(t.shape, weight.shape as number[])) {
        throw new WeightFileError(
          file,
          `tensor ${source} has shape [${t.shape}] (after permutation), model weight ${target} needs [${weight.shape}]`,
        );
      }
      return tf.keep(t);
    });
  });
  // Every tensor is checked before any weight changes: a bad file leaves the model as it was.
  for (const [i, [target]] of plan.entries()) weights.get(target)!.write(values[i]);
  const loaded = plan.map(([target]) => target);
  const loadedSet = new Set(loaded);
  return { loaded, untouched: [...weights.keys()].filter((name) => !loadedSet.has(name)) };
}

/** Reads the weights file and the optional mapping file of a config's `model.pretrained`, then applies them. */
export async function loadPretrained(
  net: tf.LayersModel,
  spec: { weights: string; mapping?: string },
): Promise<PretrainedReport> {
  const sources = await readWeightFile(spec.weights);
  let mapping: WeightMapping | undefined;
  if (spec.mapping) {
    const text = await readFile(spec.mapping, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new WeightFileError(spec.mapping!, `cannot read (${error.code ?? error.message})`);
    });
    try {
      mapping = JSON.parse(text) as WeightMapping;
    } catch (error) {
      throw new WeightFileError(spec.mapping, `not JSON (${(error as Error).message})`);
    }
  }
  return applyPretrained(net, sources, spec.weights, mapping);
}
