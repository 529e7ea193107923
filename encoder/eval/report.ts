// Writes an evaluation's metrics.json and its PR and P@N plots.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lineChart } from './plot.js';
import type { RetrievalMetrics } from './retrieval.js';

export async function writeEvaluationReport(
  dir: string,
  label: string,
  metrics: RetrievalMetrics,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const { cutoff, precision, recall } = metrics.curve;
  const files = {
    'metrics.json': `${JSON.stringify({ ...extra, ...metrics }, null, 2)}\n`,
    'pr-curve.svg': lineChart([{ label, x: recall, y: precision }], {
      title: `Precision-recall (${metrics.bits} bits)`,
      xLabel: 'recall',
      yLabel: 'precision',
    }),
    'precision-at-n.svg': lineChart([{ label, x: cutoff, y: precision }], {
      title: `Precision at N (${metrics.bits} bits)`,
      xLabel: 'N (log scale)',
      yLabel: 'precision',
      logX: true,
    }),
  };
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(path.join(dir, name), text)));
  return Object.keys(files).map((name) => path.join(dir, name));
}
