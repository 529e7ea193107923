// Items backed by image files or URLs: an image folder (one class per subfolder), the CIFAR-10 JPEG
// layout (train/ and test/ image folders), a DeepHash-style list file, and a text file of paths or URLs.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { listImageFolder, readListFile } from '../data/loaders.js';
import { type Collection, CollectionError, type CollectionItem, type SourceResolver } from './types.js';

// A stalled server fails the image instead of hanging the job.
const FETCH_TIMEOUT_MS = 30_000;

const isUrl = (source: string) => /^https?:\/\//i.test(source);

async function fetchBytes(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message;
    throw new CollectionError(`${url}: fetch failed (${cause ?? (error as Error).message})`);
  }
  if (!response.ok) throw new CollectionError(`${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fileBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new CollectionError(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Paths relative to `root` (or absolute) and URLs. */
export function fileResolver(root: string): SourceResolver {
  return (source) => (isUrl(source) ? () => fetchBytes(source) : () => fileBytes(path.resolve(root, source)));
}

function fromList<T>(description: string, entries: readonly T[], item: (entry: T) => CollectionItem): Collection {
  return {
    description,
    size: entries.length,
    async *items(start) {
      for (let i = start; i < entries.length; i++) yield item(entries[i]);
    },
  };
}

async function requireDir(dir: string, what: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new CollectionError(`${dir}: ${what} not found (expected a folder)`);
}

/** `dir/<class>/<image>`: classes and files sorted; labels [class]. */
export async function imageFolder(dir: string): Promise<Collection> {
  await requireDir(dir, 'image folder');
  const { files } = await listImageFolder(dir).catch((error: Error) => {
    throw new CollectionError(error.message);
  });
  const load = fileResolver(dir);
  return fromList(`image folder ${dir}`, files, (f) => ({
    source: f.source,
    labels: [f.source.slice(0, f.source.indexOf('/'))],
    load: load(f.source),
  }));
}

/** CIFAR-10 as JPEG folders: root/train/<class>/*.jpg then root/test/<class>/*.jpg. */
export async function cifar10Jpeg(root: string): Promise<Collection> {
  await requireDir(root, 'CIFAR-10 JPEG root');
  const files = [];
  for (const part of ['train', 'test']) {
    const dir = path.join(root, part);
    await requireDir(dir, `CIFAR-10 ${part} folder`);
    const listed = await listImageFolder(dir);
    files.push(...listed.files.map((f) => ({ source: `${part}/${f.source}`, label: f.source.split('/')[0] })));
  }
  const load = fileResolver(root);
  return fromList(`CIFAR-10 JPEG ${root}`, files, (f) => ({
    source: f.source,
    labels: [f.label],
    load: load(f.source),
  }));
}

/** A DeepHash-pytorch list file: `path l0 l1 ... lk` per line (multi-hot), paths relative to `root`. */
export async function listFile(listPath: string, root = path.dirname(listPath)): Promise<Collection> {
  const entries = await readListFile(listPath).catch((error: Error) => {
    throw new CollectionError(error.message.includes(listPath) ? error.message : `${listPath}: ${error.message}`);
  });
  const load = fileResolver(root);
  return fromList(`list file ${listPath}`, entries, (e) => ({
    source: e.path,
    labels: [...e.labels].flatMap((v, i) => (v === 1 ? [String(i)] : [])),
    load: load(e.path),
  }));
}

/**
 * A text file naming one image per line: a path (relative to the file's folder) or an http(s) URL,
 * optionally followed by a tab and comma-separated labels. Items get ids in line order.
 */
export async function fileList(listPath: string): Promise<Collection> {
  const info = await stat(listPath).catch(() => null);
  if (!info?.isFile()) throw new CollectionError(`${listPath}: list of images not found`);
  const load = fileResolver(path.dirname(listPath));
  const lines = async function* () {
    for await (const line of createInterface({
      input: createReadStream(listPath),
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      const [source, labels] = line.trim().split('\t');
      if (source !== '' && !source.startsWith('#')) {
        yield {
          source,
          labels: labels
            ?.split(',')
            .map((l) => l.trim())
            .filter((l) => l !== ''),
        };
      }
    }
  };
  let size = 0;
  for await (const _ of lines()) size++;
  return {
    description: `image list ${listPath}`,
    size,
    async *items(start) {
      let position = 0;
      for await (const { source, labels } of lines()) {
        if (position++ >= start) yield { source, ...(labels?.length ? { labels } : {}), load: load(source) };
      }
    },
  };
}
