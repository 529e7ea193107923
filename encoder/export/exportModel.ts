// A trained hash model -> ONNX bytes. The graph takes the normalized float32 NHWC batch the tfjs model
// takes ([N, size, size, channels], N dynamic) and returns its [N, bits] hash outputs.
import type { HashModel } from '../models/types.js';
import { encodeModel, ONNX_OPSET } from './onnxGraph.js';
import { convertLayersModel } from './tfjsToOnnx.js';

/** Tensor names of exported hash models; the model card records them. */
const ONNX_INPUT_NAME = 'image';
const ONNX_OUTPUT_NAME = 'hash';

export interface ExportedModel {
  onnx: Uint8Array;
  inputName: string;
  outputName: string;
  opset: number;
}

export function exportHashModel(model: HashModel): ExportedModel {
  const graph = convertLayersModel(model.net, {
    inputName: ONNX_INPUT_NAME,
    outputName: ONNX_OUTPUT_NAME,
    testTimeFlip: model.config.testTimeFlip,
  });
  return {
    onnx: encodeModel(graph.toModel(model.config.architecture)),
    inputName: ONNX_INPUT_NAME,
    outputName: ONNX_OUTPUT_NAME,
    opset: ONNX_OPSET,
  };
}
