/**
 * Synchronous data-parallel training on worker threads.
 *
 * tfjs-backend-wasm computes on one thread in Node, so a single training process uses one core. This
 * runs N replicas of the model, one per worker thread (./dataParallelWorker.ts), each with its own
 * tfjs, backend, model (same config and seed, so the same initial weights), loss and Adam. A step:
 *
 *   1. the batch is cut into N contiguous shares (sizes differ by at most one);
 *   2. each replica computes its share's mean loss and the gradients of the trainable weights
 *      (tf.variableGrads, training mode);
 *   3. the main thread averages the gradients weighted by share size (= the gradient of the batch-mean
 *      loss when the loss is a mean over rows, as CSQ and DPN are) and the losses likewise;
 *   4. every replica applies the same averaged gradients with its own Adam at the given learning rate.
 *
 * The replicas start equal and apply identical updates with identical optimizer state on the same
 * backend, so their trainable weights stay bit-identical.
 *
 * Differences from one process training on the whole batch:
 * - BatchNorm normalizes each share with that share's statistics (as in PyTorch DDP without SyncBN),
 *   so with BN the step is not exactly the whole-batch step; the smaller the shares, the noisier.
 * - BatchNorm moving mean/variance (non-trainable) are updated by each replica from its own shares
 *   and therefore differ slightly between replicas; snapshot() returns replica 0's.
 * - Dropout masks are drawn per replica.
 * - Losses that couple the rows of a batch (pairwise losses) see only their share's rows.
 * - Losses with a memory bank (DPSH, DSH, DAH, ADSH, PAL): every replica reserves the
 *   whole batch's rows in batch order, writes its own share, and after the step takes the rows the
 *   other replicas wrote, so all banks hold the same rows in the same order as in one process (and
 *   what onEpochEnd derives from them, e.g. ADSH's database codes, is the same). Within a step a share
 *   sees the other shares' rows as of their previous visit, where one process sees this step's
 *   outputs. On their first visit (epoch 1) the pair losses leave them out
 *   (MemoryBank.writtenTensors); ADSH reads them as unlabelled rows against database codes that are
 *   still zero, a term with no gradient. A loss's own trainable variables (GreedyHash's classifier)
 *   are averaged and applied with the model's. Losses with unsharedState are refused.
 * - A rejected step applies no update, but replicas that did compute their share have already moved
 *   their BatchNorm moving statistics.
 * With no BatchNorm or dropout and a per-row-mean loss, a step equals the whole-batch step up to
 * float rounding; with workers = 1 it is the single-process step of encoder/train/trainer.ts exactly.
 *
 * Workers run TypeScript through tsx (registered inside each worker, see ../workers/tsWorker.ts).
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { BankRows } from '../losses/memoryBank.js';
import type { LossContext, NamedArray } from '../losses/types.js';
import type { HashModelConfig } from '../models/types.js';
import type { OptimizerSettings } from '../train/optimizer.js';
import { startTsWorker } from '../workers/tsWorker.js';
import type { BackendPreference } from './backend.js';

export interface DataParallelOptions {
  /** Worker threads, one replica each; default os.availableParallelism(). */
  workers?: number;
  backend: BackendPreference;
  model: HashModelConfig;
  loss: { name: string; context: LossContext };
  /** The initial learning rate (step() sets the rate of each step). */
  learningRate: number;
  /** Optimizer and weight decay (encoder/train/optimizer.ts); default plain Adam. */
  optimizer?: Partial<OptimizerSettings>;
  /**
   * Optional module URL (e.g. pathToFileURL(...).href, or a data: URL) that each worker imports after
   * selecting its backend and before building the model. Its `setup` (or default) export is called
   * with `{ tf, registerArchitecture, registerLoss }`, so architectures and losses registered at run
   * time in the main thread can be registered in the workers too.
   */
  setup?: string;
}

/** One named float32 tensor as host values (the loss-state type, shared). */
export type NamedValues = NamedArray;

export interface TrainerSnapshot {
  /** All model weights incl. BatchNorm moving statistics, in net.weights order (names: originalName). */
  weights: NamedValues[];
  /** Adam's getWeights(): iterations, first moments, second moments. */
  optimizer: NamedValues[];
  /** The loss's state across batches (encoder/losses/lossState.ts); empty for a loss without any. */
  loss: NamedValues[];
}

export interface DataParallelBatch {
  /** size x H x W x C normalized float32, row-major. */
  x: Float32Array;
  /** size x numClasses multi-hot. */
  labels: Float32Array;
  /** Dataset indices of the rows (passed to the loss). */
  indices: Int32Array;
  size: number;
}

// ---- messages between the main thread and a worker ----

/** @internal */
export interface WorkerData {
  replica: number;
  replicas: number;
  backend: BackendPreference;
  model: HashModelConfig;
  loss: { name: string; context: LossContext };
  learningRate: number;
  optimizer: Partial<OptimizerSettings>;
  setup?: string;
}

/** @internal */
export type WorkerRequest =
  | {
      id: number;
      type: 'grads';
      x: Float32Array;
      labels: Float32Array;
      indices: Int32Array;
      size: number;
      /** The whole batch's dataset indices, for the bank's row order. */
      batchIndices: Int32Array;
    }
  /** bankRows: the bank rows the other replicas wrote this step. */
  | { id: number; type: 'apply'; grads: Float32Array[]; learningRate: number; bankRows: BankRows[] }
  | { id: number; type: 'epochEnd'; epoch: number }
  | { id: number; type: 'encode'; x: Float32Array; size: number }
  | { id: number; type: 'snapshot' }
  | { id: number; type: 'restore'; weights: NamedValues[]; optimizer?: NamedValues[]; loss?: NamedValues[] };

/** @internal */
export type WorkerReply =
  | { id: number; ok: false; error: string }
  | { id: number; ok: true; type: 'ready' | 'done' }
  | { id: number; ok: true; type: 'grads'; loss: number; grads: Float32Array[]; bankRows?: BankRows }
  | { id: number; ok: true; type: 'encoded'; outputs: Float32Array }
  | ({ id: number; ok: true; type: 'snapshot' } & TrainerSnapshot);

type Ok<T extends string> = Extract<WorkerReply, { ok: true; type: T }>;

interface Pending {
  resolve: (reply: WorkerReply & { ok: true }) => void;
  reject: (err: Error) => void;
}

/** One worker thread and its outstanding requests (replies come back in order, matched by id). */
class Replica {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  private exited = false;
  readonly ready: Promise<void>;

  constructor(
    readonly index: number,
    private readonly worker: Worker,
  ) {
    this.ready = new Promise<void>((resolve, reject) => this.pending.set(0, { resolve: () => resolve(), reject }));
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply);
      else p.reject(new Error(reply.error));
    });
    worker.on('error', (err: unknown) =>
      this.fail(new Error(`replica ${index} crashed: ${err instanceof Error ? err.message : String(err)}`)),
    );
    worker.on('messageerror', (err) => this.fail(new Error(`replica ${index}: message error: ${String(err)}`)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new Error(`replica ${index} exited (code ${code})`));
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  request<T extends Ok<'done'> | Ok<'grads'> | Ok<'snapshot'> | Ok<'encoded'>>(
    msg: WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never,
    transfer: ArrayBuffer[] = [],
  ): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (r) => resolve(r as T), reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  async terminate(): Promise<void> {
    if (this.exited) return;
    this.fail(new Error(`replica ${this.index} was disposed`));
    await this.worker.terminate();
  }
}

/** The first rejection among settled replica requests, as an Error; undefined when all succeeded. */
function firstRejection(results: PromiseSettledResult<unknown>[]): Error | undefined {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined) return undefined;
  return failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
}

/** Contiguous share sizes of `size` rows over `n` replicas (the first size % n get one more). */
export function shareSizes(size: number, n: number): number[] {
  const base = Math.floor(size / n);
  return Array.from({ length: n }, (_, i) => base + (i < size % n ? 1 : 0));
}

export class DataParallelTrainer {
  private disposed = false;
  private broken: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly replicas: Replica[],
    private readonly model: HashModelConfig,
  ) {}

  /** Starts the workers and waits until every replica has built its model; rejects with a worker's error. */
  static async create(options: DataParallelOptions): Promise<DataParallelTrainer> {
    const workers = options.workers ?? os.availableParallelism();
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
    const replicas: Replica[] = [];
    for (let i = 0; i < workers; i++) {
      const workerData: WorkerData = {
        replica: i,
        replicas: workers,
        backend: options.backend,
        model: options.model,
        loss: options.loss,
        learningRate: options.learningRate,
        optimizer: options.optimizer ?? {},
        ...(options.setup === undefined ? {} : { setup: options.setup }),
      };
      const worker = startTsWorker(new URL('./dataParallelWorker.ts', import.meta.url), { workerData });
      replicas.push(new Replica(i, worker));
    }
    const trainer = new DataParallelTrainer(replicas, options.model);
    try {
      await Promise.all(replicas.map((r) => r.ready));
    } catch (err) {
      await trainer.dispose();
      throw err;
    }
    return trainer;
  }

  get workers(): number {
    return this.replicas.length;
  }

  /** Serializes calls: a step, snapshot or restore starts when the previous one has finished. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.disposed) throw new Error('DataParallelTrainer is disposed');
      if (this.broken !== undefined)
        throw new Error(`DataParallelTrainer is unusable after an earlier failure: ${this.broken.message}`);
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * One synchronous step: splits the batch over the replicas, averages their gradients weighted by
   * share size, applies the average on every replica with Adam at `learningRate`, and returns the
   * batch-mean loss. Rejects with the worker's message if a replica fails (e.g. wrong input length).
   */
  step(batch: DataParallelBatch, learningRate: number): Promise<number> {
    return this.serial(async () => {
      const { inputSize: side, channels, numClasses } = this.model;
      const perImage = side * side * channels;
      const { size } = batch;
      if (!Number.isInteger(size) || size < 1)
        throw new RangeError(`batch size must be a positive integer, got ${size}`);
      const sizes = shareSizes(size, this.replicas.length);
      const active = sizes.filter((n) => n > 0).length;
      const jobs: Array<Promise<Ok<'grads'>>> = [];
      const used: number[] = [];
      let start = 0;
      for (let i = 0; i < active; i++) {
        const n = sizes[i];
        // Copies, so the caller's arrays stay usable; their buffers are transferred. The last share
        // takes whatever remains, so a batch whose arrays do not match `size` fails there with the
        // worker's length check.
        const last = i === active - 1;
        const end = start + n;
        const x = last ? batch.x.slice(start * perImage) : batch.x.slice(start * perImage, end * perImage);
        const labels = last
          ? batch.labels.slice(start * numClasses)
          : batch.labels.slice(start * numClasses, end * numClasses);
        const indices = last ? batch.indices.slice(start) : batch.indices.slice(start, end);
        jobs.push(
          this.replicas[i].request<Ok<'grads'>>(
            { type: 'grads', x, labels, indices, size: n, batchIndices: batch.indices },
            [x.buffer, labels.buffer, indices.buffer],
          ),
        );
        used.push(n);
        start = end;
      }
      const results = await Promise.allSettled(jobs);
      const failed = firstRejection(results);
      // Replicas are still equal (nothing was applied); a worker that died makes the trainer unusable.
      if (failed !== undefined) throw failed;
      const replies = results.map((r) => (r as PromiseFulfilledResult<Ok<'grads'>>).value);
      const averaged = replies[0].grads.map((g) => new Float32Array(g.length));
      let loss = 0;
      replies.forEach((reply, k) => {
        const w = used[k] / size;
        loss += w * reply.loss;
        reply.grads.forEach((g, v) => {
          const out = averaged[v];
          if (g.length !== out.length)
            throw new Error(`replica ${k}: gradient ${v} has ${g.length} values, expected ${out.length}`);
          for (let j = 0; j < g.length; j++) out[j] += w * g[j];
        });
      });
      const applied = await Promise.allSettled(
        this.replicas.map((r, k) => {
          const bankRows = replies.flatMap((reply, j) =>
            j === k || reply.bankRows === undefined ? [] : [reply.bankRows],
          );
          return r.request<Ok<'done'>>({ type: 'apply', grads: averaged, learningRate, bankRows });
        }),
      );
      const applyFailed = firstRejection(applied);
      if (applyFailed !== undefined) {
        // Some replicas may have applied the update and others not: they are no longer in sync.
        this.broken = applyFailed;
        throw this.broken;
      }
      return loss;
    });
  }

  /**
   * Network outputs ([size, bits], inference mode) of a normalized batch, its rows shared over the
   * replicas like a training batch. Replicas differ in BatchNorm moving statistics: restore() one
   * set of weights into all of them first when the outputs must not depend on the worker count.
   */
  encode(x: Float32Array, size: number): Promise<Float32Array> {
    return this.serial(async () => {
      const { inputSize: side, channels, bits } = this.model;
      const perImage = side * side * channels;
      if (x.length !== size * perImage) {
        throw new RangeError(`encode: x has ${x.length} values, expected ${size} x ${side}x${side}x${channels}`);
      }
      let start = 0;
      const jobs = shareSizes(size, this.replicas.length)
        .filter((n) => n > 0)
        .map((n, i) => {
          const share = x.slice(start * perImage, (start + n) * perImage);
          start += n;
          return this.replicas[i].request<Ok<'encoded'>>({ type: 'encode', x: share, size: n }, [share.buffer]);
        });
      const outputs = new Float32Array(size * bits);
      let at = 0;
      for (const reply of await Promise.all(jobs)) {
        outputs.set(reply.outputs, at);
        at += reply.outputs.length;
      }
      return outputs;
    });
  }

  /** Tells every replica's loss that an epoch has ended (schedules, ADSH's database codes). */
  epochEnd(epoch: number): Promise<void> {
    return this.serial(async () => {
      const results = await Promise.allSettled(
        this.replicas.map((r) => r.request<Ok<'done'>>({ type: 'epochEnd', epoch })),
      );
      const failed = firstRejection(results);
      if (failed !== undefined) {
        // Some replicas may have taken the epoch end and others not.
        this.broken = failed;
        throw this.broken;
      }
    });
  }

  /**
   * Weights of a replica (default 0; all model weights incl. BatchNorm moving statistics, in
   * net.weights order) and its optimizer state, for checkpoints and evaluation in the main thread.
   */
  snapshot(replica = 0): Promise<TrainerSnapshot> {
    return this.serial(async () => {
      const r = this.replicas[replica];
      if (r === undefined) throw new RangeError(`replica ${replica} does not exist (workers: ${this.replicas.length})`);
      const { weights, optimizer, loss } = await r.request<Ok<'snapshot'>>({ type: 'snapshot' });
      return { weights, optimizer, loss };
    });
  }

  /** Loads weights (and, when given, optimizer and loss state) into every replica, e.g. to resume. */
  restore(state: { weights: NamedValues[]; optimizer?: NamedValues[]; loss?: NamedValues[] }): Promise<void> {
    return this.serial(async () => {
      const results = await Promise.allSettled(
        this.replicas.map((r) =>
          r.request<Ok<'done'>>({
            type: 'restore',
            weights: state.weights,
            ...(state.optimizer === undefined ? {} : { optimizer: state.optimizer }),
            ...(state.loss === undefined ? {} : { loss: state.loss }),
          }),
        ),
      );
      const err = firstRejection(results);
      if (err !== undefined) {
        const ok = results.filter((r) => r.status === 'fulfilled').length;
        // Shape checks run before anything is written, so a rejected restore normally changed nothing;
        // if only some replicas took it, they are out of sync.
        if (ok > 0) this.broken = err;
        throw err;
      }
    });
  }

  /** Terminates the workers; later calls reject. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }
}
