// A collection to encode, read as a stream: items in a fixed order, each loaded only when encoded, so
// memory does not grow with the collection. Resuming starts the stream at a position.
import { UserError } from '../errors.js';

/** Raw interleaved pixels (HWC), for sources that store pixels rather than image files. */
export interface RawPixels {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface CollectionItem {
  /** Recorded in the item metadata: a path relative to the collection, a URL, or file#record. */
  source: string;
  labels?: string[];
  /** Encoded image bytes (JPEG, PNG, ...) or raw pixels. Errors name the source. */
  load(): Promise<Uint8Array | RawPixels>;
  /** The item's id when the collection fixes it (re-encoding a version); else first id + position. */
  id?: number;
  /** An existing thumbnail URL to keep (re-encoding a version). */
  thumbnail?: string;
}

export interface Collection {
  /** For messages: what is being read. */
  description: string;
  /** Items, when known before reading them all. */
  size?: number;
  /** The items from position `start` (0-based) on, in the collection's fixed order. */
  items(start: number): AsyncIterable<CollectionItem>;
}

/** Loads one item by its recorded source (re-encoding a version finds its images this way). */
export type SourceResolver = (source: string) => () => Promise<Uint8Array | RawPixels>;

/** A collection that cannot be read: the message names the file or URL and the problem. */
export class CollectionError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'CollectionError';
  }
}
