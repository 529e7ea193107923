// The dataset a run config names, loaded with the run's cache and error policy.
import type { TrainConfig } from '../../schemas/trainConfig.js';
import { loadCifar10Jpeg, loadCifarBinary, loadIdx, loadImageFolder, loadListFiles } from './loaders.js';
import type { ImageDataset } from './types.js';

export function loadDatasetFromConfig(
  config: Pick<TrainConfig, 'dataset' | 'cacheDir' | 'onImageError'>,
): Promise<ImageDataset> {
  const { dataset } = config;
  const common = { cacheDir: config.cacheDir, onError: config.onImageError };
  switch (dataset.format) {
    case 'cifar10-jpeg':
      return loadCifar10Jpeg(dataset.root, common);
    case 'cifar10-binary':
      return loadCifarBinary(dataset.root);
    case 'image-folder':
      return loadImageFolder(dataset.root, { ...common, height: dataset.size, width: dataset.size });
    case 'list-file':
      return loadListFiles(dataset.lists, dataset.root, { ...common, height: dataset.size, width: dataset.size });
    case 'idx':
      return loadIdx(dataset.images, dataset.labels);
  }
}
