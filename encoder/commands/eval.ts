import path from 'node:path';
import { writeEvaluationReport } from '../eval/report.js';
import { withRunEncoder } from '../train/runEngine.js';
import { loadRunWithCheckpoint } from '../train/runWithCheckpoint.js';
import { evaluate } from '../train/trainer.js';
import { type Command, requireString } from './command.js';

const usage = 'eval --config FILE [--checkpoint DIR]';

export const command: Command = {
  usage,
  options: { config: { type: 'string' }, checkpoint: { type: 'string' } },
  async run(values) {
    const checkpoint = typeof values.checkpoint === 'string' ? values.checkpoint : undefined;
    const { config, run } = await loadRunWithCheckpoint(requireString(values, 'config', usage), checkpoint);
    const metrics = await withRunEncoder(run, config, (encoder) => evaluate(run, config, encoder));
    const files = await writeEvaluationReport(path.join(config.outputDir, 'eval'), config.model.architecture, metrics, {
      protocol: config.protocol,
    });
    const { map, mapTieAveraged, precisionWithinRadius2 } = metrics;
    console.log(JSON.stringify({ map, mapTieAveraged, precisionWithinRadius2, files }));
  },
};
