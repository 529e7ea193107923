// Files that may be gzip-compressed (IDX datasets ship as .gz), detected by their magic bytes.
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const magic = new Uint8Array(2);
    await handle.read(magic, 0, 2, 0);
    return magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The first `bytes` bytes of the (decompressed) file, and whether it is gzip. */
export async function readMaybeGzipHead(file: string, bytes: number): Promise<{ head: Uint8Array; gzip: boolean }> {
  const gzip = await isGzip(file);
  const input = gzip ? createReadStream(file).pipe(createGunzip()) : createReadStream(file, { end: bytes - 1 });
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= bytes) break;
  }
  input.destroy();
  return { head: Buffer.concat(chunks).subarray(0, bytes), gzip };
}

/** The whole file, decompressed when it is gzip. */
export async function gunzipFile(file: string): Promise<Buffer> {
  const raw = await readFile(file);
  return raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}
