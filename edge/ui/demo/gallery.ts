// The demo page's gallery: a sample of the indexed collection (the hits of a random code, every
// few taken so the sample spans near and far items), each a button that searches from it.
import type { SearchHit } from '../../../schemas/api.js';
import { toHex } from '../../bytes.js';
import { EdgehashApi } from '../widget/api.js';
import type { EdgehashSearch } from '../widget/element.js';

const SHOWN = 24;
const STRIDE = 4;

function randomCode(bits: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bits / 8)));
}

function tile(hit: SearchHit, thumbnail: string, widget: EdgehashSearch): HTMLLIElement {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.id = String(hit.id);
  const label = hit.metadata?.labels?.join(', ') || `item ${hit.id}`;
  button.setAttribute('aria-label', `Search with ${label} (#${hit.id})`);
  const image = document.createElement('img');
  image.src = thumbnail;
  image.alt = '';
  button.append(image);
  button.addEventListener('click', () => {
    widget.scrollIntoView({ behavior: 'smooth', block: 'start' });
    widget.searchSimilar(hit.id, thumbnail);
  });
  item.append(button);
  return item;
}

async function showGallery(api: EdgehashApi, widget: EdgehashSearch, list: HTMLElement, about: HTMLElement) {
  try {
    const index = await api.index();
    const model = index.model ? `, model ${index.model.modelId} (${index.model.precision})` : '';
    about.textContent = `Index ${index.indexId} v${index.version}: ${index.count} images, ${index.bits}-bit codes${model}.`;
    const sample = await api.searchCode(randomCode(index.bits), { k: SHOWN * STRIDE, version: index.version });
    const hits = sample.hits.filter((_, i) => i % STRIDE === 0);
    list.replaceChildren(...hits.map((hit) => tile(hit, api.thumbnailUrl(hit.id, hit.metadata?.thumbnail), widget)));
  } catch (error) {
    about.textContent = `The index cannot be shown: ${(error as Error).message}`;
  }
}

function start(): void {
  const widget = document.querySelector<EdgehashSearch>('edgehash-search');
  const list = document.querySelector<HTMLElement>('#gallery');
  const about = document.querySelector<HTMLElement>('#about');
  if (!widget || !list || !about) return;
  const api = new EdgehashApi(widget.getAttribute('endpoint') ?? '', document.baseURI);
  document.querySelector('#shuffle')?.addEventListener('click', () => showGallery(api, widget, list, about));
  document.querySelector<HTMLInputElement>('#browser-hash')?.addEventListener('change', (event) => {
    if ((event.target as HTMLInputElement).checked) widget.setAttribute('hash', 'browser');
    else widget.removeAttribute('hash');
  });
  document.querySelector<HTMLInputElement>('#dark')?.addEventListener('change', (event) => {
    const dark = (event.target as HTMLInputElement).checked;
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    widget.setAttribute('theme', dark ? 'dark' : 'light');
  });
  showGallery(api, widget, list, about);
}

start();
