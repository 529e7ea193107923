// The admin bearer token: hex HMAC-SHA256 of the index id keyed by ADMIN_SECRET. Whoever holds the
// secret can derive it (`edgehash` or any HMAC tool); the worker never stores a token.
import { toHex } from '../bytes.js';

export async function adminToken(secret: string, indexId: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(indexId))));
}

/** Compares in time independent of where the strings differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
