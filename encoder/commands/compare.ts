import { runStudy } from '../study/runStudy.js';
import { loadStudy } from '../study/studyRuns.js';
import { type Command, requireString } from './command.js';

const usage = 'compare --study FILE';

export const command: Command = {
  usage,
  options: { study: { type: 'string' } },
  async run(values) {
    const study = await loadStudy(requireString(values, 'study', usage));
    const records = await runStudy(study);
    console.log(JSON.stringify({ results: study.resultsFile, runs: records.length }));
  },
};
