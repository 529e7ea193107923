// The parts of the Workers KV and R2 bindings the edge uses (Miniflare's bindings have them too).

export interface KvBinding {
  get(key: string, type: 'text'): Promise<string | null>;
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  put(key: string, value: string): Promise<void>;
}

export interface R2ObjectBodyLike {
  readonly size: number;
  readonly body: ReadableStream<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2Binding {
  get(key: string): Promise<R2ObjectBodyLike | null>;
}
