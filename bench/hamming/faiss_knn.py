"""FAISS IndexBinaryFlat on the benchmark's codes, one thread, one query per search call.

argv: codes.bin queries.bin bits k out_prefix. Writes out_prefix.D (int32) and .I (int64), prints
JSON with the median milliseconds per query.
"""
import json
import sys
import time

import faiss
import numpy as np

codes_path, queries_path, bits, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
faiss.omp_set_num_threads(1)
bpc = bits // 8
codes = np.fromfile(codes_path, dtype=np.uint8).reshape(-1, bpc)
queries = np.fromfile(queries_path, dtype=np.uint8).reshape(-1, bpc)
index = faiss.IndexBinaryFlat(bits)
index.add(codes)
for q in queries[:20]:
    index.search(q[None, :], k)
D = np.zeros((len(queries), k), dtype=np.int32)
I = np.zeros((len(queries), k), dtype=np.int64)
times = []
for i, q in enumerate(queries):
    t0 = time.perf_counter()
    d, ids = index.search(q[None, :], k)
    times.append((time.perf_counter() - t0) * 1000)
    D[i], I[i] = d[0], ids[0]
D.tofile(out + ".D")
I.tofile(out + ".I")
print(json.dumps({"faiss_version": faiss.__version__, "ms_per_query": float(np.median(times))}))
