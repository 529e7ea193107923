// The benchmark's workerd side: builds the same table from the same seed and runs query ranges.

import { randomBytes } from '../../test/support/random.js';
import kernelModule from '../../wasm/build/hamming.wasm';
import { CodeTable } from '../../wasm/codeTable.js';
import { hashResults } from '../support/resultHash.js';

let table: CodeTable | undefined;
let queries: Uint8Array = new Uint8Array(0);

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const param = (name: string) => Number(url.searchParams.get(name));
    if (url.pathname === '/setup') {
      const bits = param('bits');
      table = undefined;
      const codes = randomBytes(param('n') * (bits / 8), param('seed'));
      table = await CodeTable.fromCodes(kernelModule, codes, bits);
      queries = randomBytes(param('nq') * (bits / 8), param('qseed'));
      return Response.json({ memoryBytes: table.memoryBytes });
    }
    if (url.pathname === '/run' && table) {
      const bpc = table.bytesPerCode;
      const start = param('start');
      const results = [];
      for (let q = start; q < start + param('count'); q++) {
        results.push(table.search(queries.subarray(q * bpc, (q + 1) * bpc), param('k')));
      }
      return Response.json({ hash: hashResults(results) });
    }
    return new Response('not found', { status: 404 });
  },
};
