// Exports a trained run's model to ONNX with its model card, and on request an int8 copy (weights
// only, or with activations calibrated on --calibrate N training images).
import path from 'node:path';
import { ModelId } from '../../schemas/modelCard.js';
import { exportTrainedModel } from '../export/trainedModel.js';
import { loadRunWithCheckpoint } from '../train/runWithCheckpoint.js';
import { type Command, requireString, UsageError } from './command.js';

const usage = 'export --config FILE [--checkpoint DIR] --out DIR [--model-id ID] [--int8 [--calibrate N]]';

/** The run name made into a model id: lowercase, other characters replaced by '-'. */
function defaultModelId(runName: string): string {
  return runName.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

/** The id, valid for the float card and, with --int8, for the int8 card's `<id>.int8`. */
function checkModelId(id: string, int8: boolean): string {
  for (const candidate of int8 ? [id, `${id}.int8`] : [id]) {
    const checked = ModelId.safeParse(candidate);
    if (!checked.success) throw new UsageError(`model id ${candidate}: ${checked.error.issues[0].message}`);
  }
  return id;
}

export const command: Command = {
  usage,
  options: {
    config: { type: 'string' },
    checkpoint: { type: 'string' },
    out: { type: 'string' },
    'model-id': { type: 'string' },
    int8: { type: 'boolean', default: false },
    calibrate: { type: 'string' },
  },
  async run(values) {
    const configFile = requireString(values, 'config', usage);
    const outDir = path.resolve(requireString(values, 'out', usage));
    const int8 = values.int8 === true;
    // A requested id is checked before the (slow) dataset load.
    const requestedId = typeof values['model-id'] === 'string' ? checkModelId(values['model-id'], int8) : undefined;
    const calibrate = values.calibrate === undefined ? 0 : Number(values.calibrate);
    if (!(Number.isInteger(calibrate) && calibrate >= 0)) {
      throw new UsageError(`--calibrate ${values.calibrate}: expected a number of images (an integer >= 0)`);
    }
    if (calibrate > 0 && !int8) throw new UsageError('--calibrate quantizes activations; it needs --int8');
    const checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    const { config, run, checkpointDir, checkpointState } = await loadRunWithCheckpoint(configFile, checkpoint);
    const modelId = requestedId ?? checkModelId(defaultModelId(config.name), int8);
    const result = await exportTrainedModel({
      config,
      run,
      checkpointDir,
      checkpointState,
      outDir,
      modelId,
      int8: int8 ? { calibrationImages: calibrate } : undefined,
    });
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
