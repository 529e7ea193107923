// Which collection to read, as recorded in an encode job: the kind of source and its files.
import path from 'node:path';
import { z } from 'zod';
import { cifar10Jpeg, fileList, fileResolver, imageFolder, listFile } from './imageFiles.js';
import { cifar10Binary, cifar10BinaryResolver, idxImages, idxResolver } from './records.js';
import type { Collection, SourceResolver } from './types.js';

export const sourceKinds = ['folder', 'list', 'cifar10', 'cifar10-jpg', 'idx', 'files'] as const;

export const SourceSpec = z.object({
  kind: z.enum(sourceKinds),
  /** Image folder, list file, CIFAR-10 batch file or folder, CIFAR-10 JPEG root, IDX image file, or list of paths/URLs. */
  path: z.string().min(1),
  /** idx: the IDX label file. */
  labels: z.string().optional(),
  /** list: the folder the list's paths are relative to (default: the list file's folder). */
  root: z.string().optional(),
});
export type SourceSpec = z.infer<typeof SourceSpec>;

export function openCollection(spec: SourceSpec): Promise<Collection> {
  switch (spec.kind) {
    case 'folder':
      return imageFolder(spec.path);
    case 'list':
      return listFile(spec.path, spec.root);
    case 'cifar10':
      return cifar10Binary(spec.path);
    case 'cifar10-jpg':
      return cifar10Jpeg(spec.path);
    case 'idx':
      return idxImages(spec.path, spec.labels);
    case 'files':
      return fileList(spec.path);
  }
}

/** Finds items of this collection by the source recorded in their metadata. */
export async function openResolver(spec: SourceSpec): Promise<SourceResolver> {
  switch (spec.kind) {
    case 'cifar10':
      return cifar10BinaryResolver(spec.path);
    case 'idx':
      return idxResolver(spec.path);
    case 'list':
      return fileResolver(spec.root ?? path.dirname(spec.path));
    case 'files':
      return fileResolver(path.dirname(spec.path));
    default:
      return fileResolver(spec.path);
  }
}
