// The widget's API client on its own (plain TypeScript, run in Node): where thumbnails are fetched
// from, whatever the metadata says.
import { describe, expect, it } from 'vitest';
import { EdgehashApi } from '../../edge/ui/widget/api.js';

describe('EdgehashApi.thumbnailUrl', () => {
  const api = new EdgehashApi('https://api.example/search/', 'https://page.example/shop/');
  const route = 'https://api.example/search/v1/items/5/thumbnail';

  it('takes API paths, http(s), blob and data URLs, and keeps a //host URL on its own host', () => {
    expect(api.thumbnailUrl(5, undefined)).toBe(route);
    expect(api.thumbnailUrl(5, '/v1/items/5/thumbnail')).toBe(route);
    expect(api.thumbnailUrl(5, 'https://cdn.example/t/5.jpg')).toBe('https://cdn.example/t/5.jpg');
    expect(api.thumbnailUrl(5, '//cdn.example/t/5.jpg')).toBe('https://cdn.example/t/5.jpg');
    expect(api.thumbnailUrl(5, 'data:image/png;base64,AAAA')).toBe('data:image/png;base64,AAAA');
  });

  it("falls back to the item's thumbnail route for another scheme or a malformed URL", () => {
    expect(api.thumbnailUrl(5, 'javascript:alert(1)')).toBe(route);
    expect(api.thumbnailUrl(5, 'http://[not a host')).toBe(route);
  });
});
