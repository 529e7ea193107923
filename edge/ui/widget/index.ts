// Entry of the standalone widget script: defines <edgehash-search> once, whatever loads it first.
import { EdgehashSearch } from './element.js';

export { EdgehashSearch };

if (!customElements.get('edgehash-search')) customElements.define('edgehash-search', EdgehashSearch);
