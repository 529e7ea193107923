// A finished run of a comparison study, as `edgehash compare` saves it (in the run's folder and in
// the records file committed beside the results page) and reads it back instead of training again.
import { z } from 'zod';
import { protocols } from './trainConfig.js';

// A mean of ratios in [0, 1] can land a rounding step above 1.
const fraction = z
  .number()
  .min(0)
  .max(1 + 1e-9);
const count = z.number().int().nonnegative();
const positive = z.number().positive();

/**
 * The settings a run was trained under: its TrainConfig less names and paths (so two datasets of one
 * format told apart only by their paths, MNIST and Fashion-MNIST, look alike). Compared as JSON with
 * the study's current settings, so they are kept as written, not parsed again (a parse would fill in
 * defaults added since, and an old record would no longer say what it ran under).
 */
export const RunSettings = z.object({
  format: z.string(),
  /** The side images are resized to, for the formats that resize (image-folder, list-file). */
  size: z.number().int().positive().optional(),
  protocol: z.string(),
  model: z.record(z.string(), z.unknown()),
  loss: z.record(z.string(), z.unknown()),
  training: z.record(z.string(), z.unknown()),
});
export type RunSettings = z.infer<typeof RunSettings>;

export const RunRecord = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  /** Set for ablations: what the run changes. */
  change: z.string().min(1).optional(),
  protocol: z.enum(protocols),
  bits: count,
  map: fraction,
  /** Absent in records written before it was measured (compare fills it in where the run's checkpoints are at hand). */
  mapTieAveraged: fraction.optional(),
  /** -1: mAP@ALL. */
  topK: z.number().int().min(-1),
  precisionWithinRadius2: fraction,
  parameters: count,
  imagesPerSecond: positive,
  wallSeconds: positive,
  epochs: count,
  selectedEpoch: count,
  backend: z.string(),
  curve: z.object({ precision: z.array(fraction), recall: z.array(fraction) }),
  /** Absent in records written before settings were kept. */
  settings: RunSettings.optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;
