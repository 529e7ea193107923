// The widget's shadow-DOM stylesheet. Every colour and size is a CSS custom property set on :host,
// so a page restyles the widget from outside (`edgehash-search { --edgehash-accent: teal }`): outer
// rules on the host element win over :host defaults.
export const widgetStyles = `
:host {
  --edgehash-bg: #ffffff;
  --edgehash-fg: #1b1f24;
  --edgehash-muted: #57606a;
  --edgehash-surface: #f6f8fa;
  --edgehash-border: #d0d7de;
  --edgehash-accent: #0a5bc4;
  --edgehash-error: #b42318;
  --edgehash-radius: 8px;
  --edgehash-thumb: 96px;
  --edgehash-gap: 12px;
  --edgehash-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  display: block;
  color: var(--edgehash-fg);
  background: var(--edgehash-bg);
  font-family: var(--edgehash-font);
  border-radius: var(--edgehash-radius);
}
:host([theme="dark"]) {
  --edgehash-bg: #0d1117;
  --edgehash-fg: #e6edf3;
  --edgehash-muted: #9198a1;
  --edgehash-surface: #161b22;
  --edgehash-border: #3d444d;
  --edgehash-accent: #4493f8;
  --edgehash-error: #f85149;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.panel { display: grid; gap: var(--edgehash-gap); padding: var(--edgehash-gap); }
.drop {
  display: flex; flex-wrap: wrap; align-items: center; gap: var(--edgehash-gap);
  padding: calc(var(--edgehash-gap) * 1.5);
  border: 2px dashed var(--edgehash-border); border-radius: var(--edgehash-radius);
  background: var(--edgehash-surface);
}
.drop.dragging { border-color: var(--edgehash-accent); }
.query { width: var(--edgehash-thumb); height: var(--edgehash-thumb); object-fit: cover; border-radius: 4px; }
.query[hidden] { display: none; }
.hint { color: var(--edgehash-muted); }
button {
  font: inherit; color: inherit; cursor: pointer;
  border: 1px solid var(--edgehash-border); border-radius: var(--edgehash-radius);
  background: var(--edgehash-bg);
}
.choose, .more { padding: 6px 14px; }
.more { justify-self: start; }
.choose { border-color: var(--edgehash-accent); color: var(--edgehash-accent); font-weight: 600; }
.more[hidden] { display: none; }
:focus-visible { outline: 3px solid var(--edgehash-accent); outline-offset: 2px; }
.status { margin: 0; min-height: 1.4em; color: var(--edgehash-muted); font-size: 0.9em; }
.status.error { color: var(--edgehash-error); }
.results {
  list-style: none; margin: 0; padding: 0;
  display: grid; gap: var(--edgehash-gap);
  grid-template-columns: repeat(auto-fill, minmax(var(--edgehash-thumb), 1fr));
}
.results > li { min-width: 0; }
.hit {
  display: grid; width: 100%; min-width: 0; padding: 4px; gap: 2px; text-align: left;
  background: var(--edgehash-surface);
}
.hit:hover { border-color: var(--edgehash-accent); }
.hit img { width: 100%; aspect-ratio: 1; object-fit: cover; border-radius: 4px; background: var(--edgehash-border); }
.meta { display: flex; justify-content: space-between; gap: 4px; font-size: 0.8em; }
.label { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.distance { flex: none; color: var(--edgehash-muted); font-variant-numeric: tabular-nums; }
`;
