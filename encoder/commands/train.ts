import { loadConfig } from '../config.js';
import { train } from '../train/trainer.js';
import { type Command, requireString } from './command.js';

const usage = 'train --config FILE [--resume]';

export const command: Command = {
  usage,
  options: { config: { type: 'string' }, resume: { type: 'boolean', default: false } },
  async run(values) {
    const config = await loadConfig(requireString(values, 'config', usage));
    const result = await train(config, { resume: values.resume === true });
    const { map, mapTieAveraged, precisionWithinRadius2 } = result.metrics;
    console.log(
      JSON.stringify({
        map,
        mapTieAveraged,
        precisionWithinRadius2,
        selectedEpoch: result.state.bestEpoch,
        outputDir: result.outputDir,
      }),
    );
  },
};
