// A comparison study (`edgehash compare --study FILE`): every method trained under one budget on
// each protocol and bit length, plus ablations, written up as a results page. Each run is an
// ordinary TrainConfig derived from the study, so a study adds no second way to train.
import { z } from 'zod';
import { protocols, TrainConfig } from './trainConfig.js';

const { model, loss } = TrainConfig.shape;
const training = TrainConfig.shape.training.unwrap().shape;

/**
 * Where one protocol needs another number of epochs than the study's `training` (cifar10-2 trains on
 * 12 times the images of cifar10-1 per epoch): still the same for every method on that protocol.
 */
export const ProtocolBudget = z
  .object({
    epochs: training.epochs.unwrap().optional(),
    warmupEpochs: training.warmupEpochs,
    validateEvery: training.validateEvery.unwrap().optional(),
  })
  .strict();
/** Each entry once: a repeated one would train the same run twice, into one folder. */
const unique = <T extends z.ZodArray<z.ZodType<string | number>>>(list: T) =>
  list.refine((items) => new Set(items).size === items.length, { message: 'each entry once' });

const RunId = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, . _ -');

export const StudyMethod = z
  .object({
    id: RunId,
    /** Shown in tables and plots, e.g. "MA-Swin + PAL". */
    label: z.string().min(1),
    architecture: model.shape.architecture,
    options: model.shape.options,
    loss,
  })
  .strict();

export const StudyAblation = StudyMethod.extend({
  /** What the ablation varies, e.g. "channel attention off". */
  change: z.string().min(1),
  protocol: z.enum(protocols),
  bits: model.shape.bits,
}).strict();

export const StudyConfig = z
  .object({
    name: TrainConfig.shape.name,
    dataset: TrainConfig.shape.dataset,
    cacheDir: TrainConfig.shape.cacheDir,
    /** Each run writes to <outputDir>/<method>-<protocol>-<bits>. */
    outputDir: TrainConfig.shape.outputDir,
    /** The shared budget: the same epochs, augmentation and seed for every run. */
    training: TrainConfig.shape.training,
    /** Per protocol, epochs that differ from `training`'s (e.g. {"cifar10-2": {"epochs": 10}}). */
    protocolBudgets: z.partialRecord(z.enum(protocols), ProtocolBudget).default({}),
    protocols: unique(z.array(z.enum(protocols)).min(1)),
    bits: unique(z.array(model.shape.bits).min(1)),
    methods: z.array(StudyMethod).min(1),
    ablations: z.array(StudyAblation).default([]),
    /**
     * The method the study is about (e.g. MA-Swin + PAL): the page states, at every protocol and bit
     * length, its margin over the best other method, or by how much it falls short.
     */
    subject: RunId.optional(),
    /** Paragraphs (Markdown) the page ends with: what the figures mean and why. */
    notes: z.array(z.string().min(1)).default([]),
    /** The results page (Markdown) and the folder for its plots. */
    results: z.string().min(1),
    /**
     * Records files of other studies' pages (`<page>.records.json`, relative to the study file) whose
     * finished runs this study reads back instead of training them again, where a run has the same
     * method id, protocol, bits and settings (a differing one is refused, as for the study's own).
     */
    recordsFrom: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine(
    (s) => new Set([...s.methods, ...s.ablations].map((m) => m.id)).size === s.methods.length + s.ablations.length,
    {
      message: 'method and ablation ids must be unique',
      path: ['methods'],
    },
  )
  .refine((s) => s.subject === undefined || s.methods.some((m) => m.id === s.subject), {
    message: 'subject must be the id of one of the methods',
    path: ['subject'],
  });
export type StudyConfig = z.infer<typeof StudyConfig>;
export type StudyMethod = z.infer<typeof StudyMethod>;
