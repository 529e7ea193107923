// /docs: a readable, self-contained page rendered from the OpenAPI document (no script or CDN), so it
// works offline under `wrangler dev` as well as deployed.
import { html, raw } from 'hono/html';

interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: object }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string }>;
}

interface Document {
  info: { title: string; description?: string };
  paths?: object;
}

function schemaText(schema: object | undefined): string {
  if (!schema) return '';
  const s = schema as { type?: string; minimum?: number; maximum?: number; default?: unknown; maxLength?: number };
  const parts = [s.type ?? 'value'];
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.maxLength !== undefined) parts.push(`max length ${s.maxLength}`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(', ');
}

function operationHtml(path: string, method: string, op: Operation) {
  const params = op.parameters ?? [];
  return html`<section>
    <h2><code>${method.toUpperCase()} ${path}</code></h2>
    <p>${op.summary ?? ''}</p>
    ${op.description ? html`<p>${op.description}</p>` : ''}
    ${
      params.length
        ? html`<table><tr><th>parameter</th><th>in</th><th>type</th></tr>
            ${params.map(
              (p) => html`<tr><td><code>${p.name}</code>${p.required ? ' (required)' : ''}</td><td>${p.in}</td>
                <td>${schemaText(p.schema)}</td></tr>`,
            )}</table>`
        : ''
    }
    ${op.requestBody?.content ? html`<p>Body: ${Object.keys(op.requestBody.content).join(', ')}</p>` : ''}
    <ul>${Object.entries(op.responses ?? {}).map(([status, r]) => html`<li><b>${status}</b> ${r.description ?? ''}</li>`)}</ul>
  </section>`;
}

export function docsPage(doc: Document) {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => operationHtml(path, method, op)),
  );
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${doc.info.title}</title>
<style>${raw(
    'body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}' +
      'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}' +
      'section{border-top:1px solid #ddd;margin-top:1.5rem}code{background:#f4f4f4}',
  )}</style></head>
<body><h1>${doc.info.title}</h1><p>${doc.info.description ?? ''}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${operations}
</body></html>`;
}
