// Paging cursors: the version and offset of the next page, so that following `next` keeps reading the
// version the first page came from even after the active pointer moves.
import { z } from 'zod';
import { MAX_DEPTH } from '../../schemas/api.js';
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { ApiError } from '../errors.js';

const CursorFields = z.object({
  v: z.number().int().positive(),
  o: z.number().int().min(0).max(MAX_DEPTH),
});

export interface PageCursor {
  version: number;
  offset: number;
}

export function encodeCursor(cursor: PageCursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify({ v: cursor.version, o: cursor.offset })));
}

export function decodeCursor(text: string): PageCursor {
  const bytes = fromBase64Url(text);
  let parsed: z.ZodSafeParseResult<z.infer<typeof CursorFields>> | undefined;
  if (bytes) {
    try {
      parsed = CursorFields.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      parsed = undefined;
    }
  }
  if (!parsed?.success) throw new ApiError('invalid_cursor', "cursor is not one this API issued; use a page's `next`");
  return { version: parsed.data.v, offset: parsed.data.o };
}
