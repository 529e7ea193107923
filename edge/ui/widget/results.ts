// The results grid: one focusable button per hit (Enter and Space activate natively), arrow keys
// move between results in reading order and by rows, Home and End jump to the ends.
import type { SearchHit } from '../../../schemas/api.js';

/** Text a screen reader announces for a hit, also its tooltip. */
export function hitLabel(hit: SearchHit): string {
  const name = hit.metadata?.labels?.join(', ') || `item ${hit.id}`;
  return `${name}, distance ${hit.distance}. Search for similar images`;
}

/** One result: thumbnail, label and Hamming distance; `data-id` carries the item id. */
export function hitElement(hit: SearchHit, thumbnail: string): HTMLLIElement {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'hit';
  button.part.add('hit');
  button.dataset.id = String(hit.id);
  button.dataset.distance = String(hit.distance);
  button.setAttribute('aria-label', hitLabel(hit));
  button.title = hitLabel(hit);
  const image = document.createElement('img');
  // Thumbnail hosts other than the API learn nothing of the page the widget is on.
  image.referrerPolicy = 'no-referrer';
  image.src = thumbnail;
  image.alt = '';
  image.decoding = 'async';
  const meta = document.createElement('span');
  meta.className = 'meta';
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = hit.metadata?.labels?.join(', ') || `#${hit.id}`;
  const distance = document.createElement('span');
  distance.className = 'distance';
  distance.textContent = `d ${hit.distance}`;
  meta.append(label, distance);
  button.append(image, meta);
  item.append(button);
  return item;
}

/** Results per row, read from the layout (items on the first row share its top edge). */
function columns(buttons: HTMLElement[]): number {
  const top = buttons[0].getBoundingClientRect().top;
  const n = buttons.findIndex((b) => b.getBoundingClientRect().top > top + 1);
  return n === -1 ? buttons.length : n;
}

/** Index of the result that a navigation key moves to from `from`, or -1 for keys it ignores. */
export function navigationTarget(key: string, from: number, count: number, perRow: number): number {
  const clamp = (i: number) => Math.max(0, Math.min(count - 1, i));
  switch (key) {
    case 'ArrowRight':
      return clamp(from + 1);
    case 'ArrowLeft':
      return clamp(from - 1);
    case 'ArrowDown':
      return clamp(from + perRow);
    case 'ArrowUp':
      return clamp(from - perRow);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return -1;
  }
}

/** Arrow-key navigation across the grid's buttons. */
export function handleGridKey(list: HTMLElement, event: KeyboardEvent): void {
  const buttons = Array.from(list.querySelectorAll<HTMLButtonElement>('button.hit'));
  const from = buttons.indexOf(event.target as HTMLButtonElement);
  if (from === -1) return;
  const to = navigationTarget(event.key, from, buttons.length, columns(buttons));
  if (to === -1) return;
  event.preventDefault();
  buttons[to].focus();
}
