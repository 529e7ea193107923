// Another site on this machine (its own 127.0.0.1 port, so its own origin) whose page embeds the
// widget from the worker, as a customer's page would.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmbedderSite {
  origin: string;
  /** The HTML served at every path. */
  html: string;
  close(): Promise<void>;
}

export async function startEmbedderSite(): Promise<EmbedderSite> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(site.html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const site: EmbedderSite = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    html: '',
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return site;
}
