// The demo page served at `/`: the widget, a gallery of the indexed collection and a few switches.
// Everything dynamic lives in /widget.js and /demo.js; this is static markup.
export const demoPage = `<!doctype html>
<html lang="en" data-theme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>edgehash demo: search images by similarity</title>
<style>
  :root { color-scheme: light; --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; }
  :root[data-theme="dark"] { color-scheme: dark; --bg: #010409; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; }
  body { margin: 0 auto; max-width: 1100px; padding: 24px; background: var(--bg); color: var(--fg);
    font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
  header p, #about { color: var(--muted); margin: 4px 0 0; }
  .switches { display: flex; flex-wrap: wrap; gap: 16px; margin: 16px 0; }
  edgehash-search { border: 1px solid var(--line); }
  h2 { margin: 32px 0 4px; font-size: 1.2em; }
  #gallery { list-style: none; padding: 0; margin: 12px 0; display: grid; gap: 8px;
    grid-template-columns: repeat(auto-fill, minmax(72px, 1fr)); }
  #gallery button { display: block; width: 100%; padding: 0; border: 2px solid transparent; border-radius: 6px;
    background: none; cursor: pointer; }
  #gallery button:hover, #gallery button:focus-visible { border-color: #0a5bc4; outline: none; }
  #gallery img { display: block; width: 100%; aspect-ratio: 1; object-fit: cover; border-radius: 4px; }
  #shuffle { font: inherit; padding: 4px 12px; }
</style>
</head>
<body>
<header>
  <h1>edgehash</h1>
  <p>Deep-hashing image search: each image becomes a short binary code, and the nearest codes (Hamming distance)
  are the most similar images. Choose, drop or paste an image, or pick one from the collection below.</p>
</header>
<div class="switches">
  <label><input type="checkbox" id="browser-hash"> Hash in my browser (only the code is sent)</label>
  <label><input type="checkbox" id="dark"> Dark theme</label>
</div>
<main>
  <edgehash-search k="12"></edgehash-search>
  <h2>The collection</h2>
  <p id="about" aria-live="polite">Loading the index…</p>
  <ul id="gallery" aria-label="Sample of the collection: select an image to search with it"></ul>
  <button type="button" id="shuffle">Show other images</button>
</main>
<script src="/widget.js" defer></script>
<script src="/demo.js" defer></script>
</body>
</html>
`;
