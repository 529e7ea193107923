/** Shared data types for the encoder's dataset loaders, protocols and batch iterator. */

export interface ImageDataset {
  readonly name: string;
  /** Number of images. */
  readonly size: number;
  readonly height: number;
  readonly width: number;
  /** 1 or 3. */
  readonly channels: number;
  readonly classNames: readonly string[];
  /** size*height*width*channels bytes, HWC, row-major. */
  readonly pixels: Uint8Array;
  /** size*numClasses multi-hot (0/1); single-label datasets are one-hot. */
  readonly labels: Uint8Array;
  /** Per image: relative path or "file#index". */
  readonly sources: readonly string[];
  /** Images dropped because they could not be decoded (onError: 'skip'); absent or 0 when none. */
  readonly skipped?: number;
  /** Sources of the skipped images with the reason, for the log. */
  readonly skippedSources?: readonly string[];
  /** Ascending indices of images that came from an official test set (CIFAR-10 test/, test_batch.bin). */
  readonly testIndices?: Int32Array;
  /** Membership in list files, when loaded with loadListFiles (ascending indices per list name). */
  readonly lists?: Readonly<Record<string, Int32Array>>;
  /** How the pixels were obtained on this load. */
  readonly loadInfo?: LoadInfo;
}

export interface LoadInfo {
  /** Images decoded by sharp during this load (0 on a cache hit). */
  decoded: number;
  cacheHit: boolean;
  cacheFile?: string;
  ms: number;
}

export interface Split {
  protocol: string;
  train: Int32Array;
  validation: Int32Array;
  query: Int32Array;
  database: Int32Array;
  /** Retrieval depth for mAP@topK; -1 = all. */
  topK: number;
  /** Seed the split was drawn with (recordable in the model card). */
  seed?: number;
}

export type OnError = 'fail' | 'skip';

export interface LoadOptions {
  /** Target size. Absent: the size of the first image; other sizes are resized to it. */
  height?: number;
  width?: number;
  /** 1 (greyscale) or 3 (sRGB). Default 3. */
  channels?: 1 | 3;
  /** How sharp resizes images whose size differs: 'fill' (stretch, default), 'cover' (centre crop), 'contain' (pad). */
  fit?: 'fill' | 'cover' | 'contain';
  /** Directory for the decoded-pixel cache. Absent: no cache. */
  cacheDir?: string;
  /** Unreadable image: 'fail' (default) throws naming the file; 'skip' drops it and counts it. */
  onError?: OnError;
  /** Decodes in flight. Default 16. */
  concurrency?: number;
  /** Dataset name. Default: the directory or list file's base name. */
  name?: string;
  /** Called with (done, total) while decoding. */
  onProgress?: (done: number, total: number) => void;
}
