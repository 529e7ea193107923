/**
 * Retrieval protocols (DeepHash-pytorch conventions, see docs methods.md "Dataset protocols"), each with a
 * validation split carved from the training indices for model selection (never the query set).
 */

import { DataError } from '../errors.js';
import { deriveSeed, mulberry32, type Random, shuffleInPlace } from '../random.js';
import type { ImageDataset, Split } from './types.js';

export const PROTOCOLS = ['cifar10', 'cifar10-1', 'cifar10-2', 'nuswide_21', 'coco', 'imagenet100'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** mAP depth per protocol (-1 = all). */
export const PROTOCOL_TOP_K: Readonly<Record<ProtocolName, number>> = {
  cifar10: -1,
  'cifar10-1': -1,
  'cifar10-2': -1,
  nuswide_21: 5000,
  coco: 5000,
  imagenet100: 1000,
};

export type IndexList = ArrayLike<number> | readonly string[];

export interface SplitOptions {
  /** Default 0. */
  seed?: number;
  /**
   * Single-label datasets: validation images per class, taken from the training pool and removed from
   * train. Default 100 for the cifar protocols; for list protocols the default is 5% of each class.
   * 0 disables the validation split.
   */
  validationPerClass?: number;
  /** Multi-label datasets (and single-label list protocols without validationPerClass): fraction of train. Default 0.05. */
  validationFraction?: number;
  /** cifar10 / cifar10-1: query images per class. Default 100. */
  queryPerClass?: number;
  /** cifar10 / cifar10-1: training images per class. Default 500. */
  trainPerClass?: number;
  /** List protocols: indices or sources (as in dataset.sources) of each list; default dataset.lists. */
  lists?: { train: IndexList; query: IndexList; database: IndexList };
  /** Override the protocol's mAP depth. */
  topK?: number;
}

type SplitDataset = Pick<ImageDataset, 'size' | 'labels' | 'classNames'> &
  Partial<Pick<ImageDataset, 'testIndices' | 'lists' | 'sources'>>;

function sorted(a: ArrayLike<number>): Int32Array {
  return Int32Array.from(a).sort();
}

/** Class of each image for a single-label dataset; throws when an image has not exactly one label. */
export function singleLabels(dataset: Pick<ImageDataset, 'size' | 'labels' | 'classNames'>): Int32Array {
  const k = dataset.classNames.length;
  const out = new Int32Array(dataset.size);
  for (let i = 0; i < dataset.size; i++) {
    let count = 0;
    for (let c = 0; c < k; c++) {
      if (dataset.labels[i * k + c]) {
        out[i] = c;
        count++;
      }
    }
    if (count !== 1) throw new DataError(`image ${i} has ${count} labels; this protocol needs single-label data`);
  }
  return out;
}

export function isSingleLabel(dataset: Pick<ImageDataset, 'size' | 'labels' | 'classNames'>): boolean {
  const k = dataset.classNames.length;
  for (let i = 0; i < dataset.size; i++) {
    let count = 0;
    for (let c = 0; c < k; c++) count += dataset.labels[i * k + c];
    if (count !== 1) return false;
  }
  return true;
}

/** Indices grouped by class, ascending within each class. */
function byClass(classes: Int32Array, k: number, pool?: ArrayLike<number>): number[][] {
  const groups: number[][] = Array.from({ length: k }, () => []);
  if (pool) for (let j = 0; j < pool.length; j++) groups[classes[pool[j]]].push(pool[j]);
  else for (let i = 0; i < classes.length; i++) groups[classes[i]].push(i);
  return groups;
}

function complement(size: number, ...exclude: ArrayLike<number>[]): Int32Array {
  const mark = new Uint8Array(size);
  for (const e of exclude) for (let j = 0; j < e.length; j++) mark[e[j]] = 1;
  const out: number[] = [];
  for (let i = 0; i < size; i++) if (!mark[i]) out.push(i);
  return Int32Array.from(out);
}

function without(a: ArrayLike<number>, remove: ArrayLike<number>): Int32Array {
  const r = new Set<number>(Array.from(remove));
  return Int32Array.from(Array.from(a).filter((i) => !r.has(i)));
}

/**
 * Validation indices drawn from `train`: per class (`perClass` images, or `fraction` of each class, at
 * least 1) for single-label data, a random `fraction` of train for multi-label data. Ascending.
 */
export function carveValidation(
  dataset: Pick<ImageDataset, 'size' | 'labels' | 'classNames'>,
  train: ArrayLike<number>,
  random: Random,
  opts: { perClass?: number; fraction: number },
): Int32Array {
  if (opts.perClass === 0 || opts.fraction === 0 || train.length === 0) return new Int32Array(0);
  if (isSingleLabel(dataset)) {
    const classes = singleLabels(dataset);
    const picked: number[] = [];
    for (const [c, group] of byClass(classes, dataset.classNames.length, train).entries()) {
      if (group.length === 0) continue;
      const take = opts.perClass ?? Math.max(1, Math.round(group.length * opts.fraction));
      if (take >= group.length) {
        throw new Error(
          `validation of ${take} for class ${dataset.classNames[c]} would leave no training images (${group.length} in train)`,
        );
      }
      shuffleInPlace(group, random);
      for (let j = 0; j < take; j++) picked.push(group[j]);
    }
    return sorted(picked);
  }
  if (!(opts.fraction > 0 && opts.fraction < 1)) throw new Error(`validationFraction must be in (0, 1)`);
  const pool = Array.from(train);
  shuffleInPlace(pool, random);
  return sorted(pool.slice(0, Math.max(1, Math.round(pool.length * opts.fraction))));
}

function resolveList(name: string, list: IndexList, dataset: SplitDataset): Int32Array {
  if (list.length > 0 && typeof list[0] === 'string') {
    if (!dataset.sources) throw new Error(`list ${name} is given by source, but the dataset has no sources`);
    const index = new Map<string, number>();
    dataset.sources.forEach((s, i) => {
      index.set(s, i);
    });
    return sorted(
      (list as readonly string[]).map((s) => {
        const i = index.get(s);
        if (i === undefined) throw new Error(`list ${name}: ${s} is not in the dataset`);
        return i;
      }),
    );
  }
  const out = sorted(list as ArrayLike<number>);
  for (const i of out) if (i < 0 || i >= dataset.size) throw new Error(`list ${name}: index ${i} out of range`);
  return out;
}

/**
 * Builds a protocol's split, reproducibly from `opts.seed`:
 * - cifar10: per class, 100 query, 500 train, the rest (54,000) database.
 * - cifar10-1: per class, 100 query; database = the other 59,000; train = 500 per class from the database.
 * - cifar10-2: query = the 10,000 test images (dataset.testIndices), train = database = the 50,000 others.
 * - nuswide_21 / coco / imagenet100: train, query and database from explicit lists (opts.lists or dataset.lists).
 * The validation split is carved from train and removed from it (database membership is unchanged).
 * The validation stream is seeded separately, so changing the validation size leaves query/train/database as is.
 */
export function makeSplit(protocol: ProtocolName | string, dataset: SplitDataset, opts: SplitOptions = {}): Split {
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new Error(`unknown protocol "${protocol}"; known: ${PROTOCOLS.join(', ')}`);
  }
  const name = protocol as ProtocolName;
  const seed = opts.seed ?? 0;
  const random = mulberry32(seed);
  const validationRandom = mulberry32(deriveSeed(seed, 1));
  const fraction = opts.validationFraction ?? 0.05;
  const topK = opts.topK ?? PROTOCOL_TOP_K[name];
  let train: Int32Array;
  let query: Int32Array;
  let database: Int32Array;
  let perClass = opts.validationPerClass;

  if (name === 'cifar10' || name === 'cifar10-1') {
    const classes = singleLabels(dataset);
    const q = opts.queryPerClass ?? 100;
    const t = opts.trainPerClass ?? 500;
    const qs: number[] = [];
    const ts: number[] = [];
    const ds: number[] = [];
    for (const [c, group] of byClass(classes, dataset.classNames.length).entries()) {
      if (group.length < q + t) {
        throw new DataError(`class ${dataset.classNames[c]} has ${group.length} images, needs ${q} query + ${t} train`);
      }
      shuffleInPlace(group, random);
      for (let j = 0; j < group.length; j++) (j < q ? qs : j < q + t ? ts : ds).push(group[j]);
    }
    query = sorted(qs);
    train = sorted(ts);
    // cifar10-1: train is part of the database (DeepHash-pytorch: database = train + rest)
    database = name === 'cifar10' ? sorted(ds) : sorted([...ts, ...ds]);
    perClass ??= 100;
  } else if (name === 'cifar10-2') {
    singleLabels(dataset);
    if (!dataset.testIndices || dataset.testIndices.length === 0) {
      throw new Error('cifar10-2 needs dataset.testIndices (load with loadCifar10Jpeg or loadCifarBinary)');
    }
    query = sorted(dataset.testIndices);
    train = complement(dataset.size, query);
    database = train.slice();
    perClass ??= 100;
  } else {
    const lists = opts.lists ?? dataset.lists;
    if (!lists?.train || !lists.query || !lists.database) {
      throw new Error(`${name} needs train, query and database lists (opts.lists or loadListFiles)`);
    }
    train = resolveList('train', lists.train, dataset);
    query = resolveList('query', lists.query, dataset);
    database = resolveList('database', lists.database, dataset);
    const q = new Set<number>(query);
    const overlap = train.filter((i) => q.has(i));
    if (overlap.length > 0) {
      throw new DataError(
        `${name}: ${overlap.length} query images are also in the train list (e.g. index ${overlap[0]})`,
      );
    }
  }

  const validation = carveValidation(dataset, train, validationRandom, { perClass, fraction });
  train = without(train, validation);
  return { protocol: name, train, validation, query, database, topK, seed };
}
