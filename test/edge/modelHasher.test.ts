// A model the edge drops from its store releases its onnxruntime-web session (wasm memory the
// isolate would otherwise hold for life), but only once the runs in progress on it have ended.
// Run in Node with onnxruntime-web's wasm build, the runtime the worker uses.
import * as ort from 'onnxruntime-web/wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelHasher, ModelUnloadedError } from '../../edge/hashing/modelHasher.js';
import { type TestModel, testModel } from './support/fixture.js';

let model: TestModel;

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  model = await testModel(1);
});

const blank = () => new Uint8Array(model.card.input.size ** 2 * model.card.input.channels);

describe('ModelHasher.retire', () => {
  it('lets a run in progress finish, then refuses new runs', async () => {
    const hasher = await ModelHasher.create(ort, model.card, model.onnx);
    const expected = await hasher.hash(blank());
    const running = hasher.hash(blank());
    hasher.retire();
    expect(await running).toEqual(expected);
    await expect(hasher.hash(blank())).rejects.toBeInstanceOf(ModelUnloadedError);
    await expect(hasher.hash(blank())).rejects.toThrow(
      new ModelUnloadedError(`model ${model.card.modelId} was unloaded while this request held it; retry`),
    );
  });
});
