// Export outputs land whole or not at all: each file is written beside its target and renamed over it.
import { rename, rm, writeFile } from 'node:fs/promises';

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
