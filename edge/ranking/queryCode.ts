// A query code given as text: hex (2 digits per byte) or base64url, told apart by length, which
// never coincide for the same number of bytes (2n hex digits vs ceil(4n/3) base64url characters).

import { fromBase64Url, fromHex } from '../bytes.js';
import { ApiError } from '../errors.js';

export function parseQueryCode(text: string, bits: number): Uint8Array {
  const bytes = bits / 8;
  const hexLength = 2 * bytes;
  const base64Length = Math.ceil((4 * bytes) / 3);
  const expected = `${bits} bits: ${hexLength} hex digits or ${base64Length} base64url characters`;
  const plain = text.replace(/=+$/, '');
  const code =
    text.length === hexLength ? fromHex(text) : plain.length === base64Length ? fromBase64Url(text) : undefined;
  if (code === undefined) {
    throw new ApiError('invalid_code', `code has ${text.length} characters; this index needs ${expected}`);
  }
  if (code === null || code.length !== bytes) {
    throw new ApiError('invalid_code', `code is neither valid hex nor base64url; this index needs ${expected}`);
  }
  return code;
}
