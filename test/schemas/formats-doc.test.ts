import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODE_TABLE_HEADER_BYTES, codeTableHeaderLayout } from '../../schemas/codeTable.js';

describe('docs/formats.md', () => {
  it('documents the header exactly as schemas/codeTable.ts lays it out', () => {
    const doc = readFileSync(new URL('../../docs/formats.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Header'), doc.indexOf('### Codes'));
    const rows = section
      .split('\n')
      .filter((line) => /^\| \d/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map(([, offset, size, name, meaning]) => ({ offset: +offset, size: +size, name, meaning }))).toEqual(
      codeTableHeaderLayout.map(({ offset, size, name, meaning }) => ({ offset, size, name, meaning })),
    );
    const last = codeTableHeaderLayout.at(-1)!;
    expect(last.offset + last.size).toBe(CODE_TABLE_HEADER_BYTES);
  });
});
