// The worker-thread side of ThreadedHasher (threadedHasher.ts): one OnnxHasher, answering
// normalized batches with packed codes. onnxruntime-node runs a batch synchronously on the calling
// thread, so running it here leaves the encoder's main thread free to prepare the next batch.
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxHasher } from './onnxHasher.js';
import type { HashRequest, HashWorkerData, HashWorkerMessage } from './threadedHasher.js';

const port = parentPort!;
const post = (message: HashWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const { model, card, options } = workerData as HashWorkerData;

async function handle(hasher: OnnxHasher, request: HashRequest | 'release'): Promise<void> {
  // Releasing the session here, before the thread ends, keeps onnxruntime's native teardown out of
  // worker termination (terminating with a live session aborted the process now and then).
  if (request === 'release') {
    await hasher.release();
    port.close();
    return;
  }
  try {
    const codes = await hasher.hashNormalized(request.input, request.n);
    post({ kind: 'codes', codes, input: request.input }, [
      codes.buffer as ArrayBuffer,
      request.input.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    post({ kind: 'error', message: (error as Error).message });
  }
}

try {
  const hasher = await OnnxHasher.create(model, card, options);
  // One request at a time, in arrival order: batches are answered in order, and a release waits
  // for the batches before it.
  let queue = Promise.resolve();
  port.on('message', (request: HashRequest | 'release') => {
    queue = queue.then(() => handle(hasher, request));
  });
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'error', message: (error as Error).message });
}
