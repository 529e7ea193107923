// What the worker reads from its environment: the KV and R2 bindings (names in schemas/storage.ts)
// and plain-text settings from wrangler.toml [vars] or secrets.
import type { KvBinding, R2Binding } from './storage/bindings.js';

export interface WorkerEnv {
  EDGEHASH_KV: KvBinding;
  EDGEHASH_R2: R2Binding;
  /** Secret the admin bearer token is derived from (`wrangler secret put ADMIN_SECRET`); admin is off without it. */
  ADMIN_SECRET?: string;
  /** Comma-separated origins allowed to call the API from a browser; `*` allows any. */
  ALLOWED_ORIGINS?: string;
  /** Index served (schemas/storage.ts DEFAULT_INDEX_ID when absent). */
  INDEX_ID?: string;
  /** Requests per minute per client (CF-Connecting-IP) in one isolate; 0 turns limiting off. */
  RATE_LIMIT_PER_MINUTE?: string;
  /** Megabytes of isolate memory for cached index versions and models. */
  CACHE_BUDGET_MB?: string;
  /** How long a read of the active-version pointer is trusted before KV is asked again. */
  POINTER_TTL_MS?: string;
}

export interface EdgeSettings {
  indexId: string;
  allowedOrigins: string[];
  rateLimitPerMinute: number;
  cacheBudgetBytes: number;
  pointerTtlMs: number;
  adminSecret: string | undefined;
}

export const DEFAULT_SETTINGS = {
  rateLimitPerMinute: 600,
  // 128 MB isolate: leave room for the runtime, ORT (~20 MB with its heap) and request buffers.
  cacheBudgetMb: 64,
  pointerTtlMs: 2000,
} as const;

function numberSetting(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a non-negative number, got "${value}"`);
  return n;
}

export function readSettings(env: WorkerEnv, defaultIndexId: string): EdgeSettings {
  return {
    indexId: env.INDEX_ID || defaultIndexId,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    rateLimitPerMinute: numberSetting(
      env.RATE_LIMIT_PER_MINUTE,
      DEFAULT_SETTINGS.rateLimitPerMinute,
      'RATE_LIMIT_PER_MINUTE',
    ),
    cacheBudgetBytes:
      numberSetting(env.CACHE_BUDGET_MB, DEFAULT_SETTINGS.cacheBudgetMb, 'CACHE_BUDGET_MB') * 1024 * 1024,
    pointerTtlMs: numberSetting(env.POINTER_TTL_MS, DEFAULT_SETTINGS.pointerTtlMs, 'POINTER_TTL_MS'),
    adminSecret: env.ADMIN_SECRET || undefined,
  };
}
