// Row-major <-> blocked16 code layouts (schemas/codeTable.ts). Done in JS, writing straight into
// the kernel's pinned table: staging a row-major copy in wasm memory would double the table's
// memory for good, since linear memory never shrinks.
import { BLOCK_CODES } from '../schemas/codeTable.js';

export function toBlocked(rows: Uint8Array, bytesPerCode: number, out: Uint8Array): void {
  const n = rows.length / bytesPerCode;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const block = Math.floor(i / BLOCK_CODES) * BLOCK_CODES * bytesPerCode + (i % BLOCK_CODES);
    const row = i * bytesPerCode;
    for (let j = 0; j < bytesPerCode; j++) out[block + j * BLOCK_CODES] = rows[row + j];
  }
}

/** Code `i` of a blocked16 section, written at `out[at]`. */
export function rowFromBlocked(blocked: Uint8Array, i: number, bytesPerCode: number, out: Uint8Array, at = 0): void {
  const block = Math.floor(i / BLOCK_CODES) * BLOCK_CODES * bytesPerCode + (i % BLOCK_CODES);
  for (let j = 0; j < bytesPerCode; j++) out[at + j] = blocked[block + j * BLOCK_CODES];
}

export function fromBlocked(blocked: Uint8Array, n: number, bytesPerCode: number, out: Uint8Array): void {
  for (let i = 0; i < n; i++) rowFromBlocked(blocked, i, bytesPerCode, out, i * bytesPerCode);
}
