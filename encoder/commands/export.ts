// Exports a trained run's model to ONNX with its model card (and an int8 copy on request).
import path from 'node:path';
import { ModelId } from '../../schemas/modelCard.js';
import { exportTrainedModel } from '../export/trainedModel.js';
import { type Command, loadRunWithCheckpoint, requireString, UsageError } from './command.js';

const usage = 'export --config FILE [--checkpoint DIR] --out DIR [--model-id ID]';

/** The run name made into a model id: lowercase, other characters replaced by '-'. */
function defaultModelId(runName: string): string {
  return runName.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

export const command: Command = {
  usage,
  options: {
    config: { type: 'string' },
    checkpoint: { type: 'string' },
    out: { type: 'string' },
    'model-id': { type: 'string' },
  },
  async run(values) {
    const configFile = requireString(values, 'config', usage);
    const outDir = path.resolve(requireString(values, 'out', usage));
    const requestedId = typeof values['model-id'] === 'string' ? values['model-id'] : undefined;
    if (requestedId !== undefined && !ModelId.safeParse(requestedId).success) {
      throw new UsageError(`--model-id ${requestedId}: ${ModelId.safeParse(requestedId).error?.issues[0].message}`);
    }
    const checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    const { config, run, checkpointDir, checkpointState } = await loadRunWithCheckpoint(configFile, checkpoint);
    const modelId = requestedId ?? defaultModelId(config.name);
    const result = await exportTrainedModel({ config, run, checkpointDir, checkpointState, outDir, modelId });
    for (const file of [result.float, result.int8]) {
      if (!file) continue;
      console.log(
        JSON.stringify({
          onnx: file.onnxPath,
          card: file.cardPath,
          precision: file.card.precision,
          bytes: file.card.onnx.bytes,
          checksum: file.card.onnx.checksum,
        }),
      );
    }
  },
};
