// The Hono environment every route and middleware shares.
import type { WorkerEnv } from './env.js';
import type { EdgeServices } from './services.js';
import type { KeepAlive } from './storage/keepAlive.js';

export interface AppEnv {
  Bindings: WorkerEnv;
  Variables: { services: EdgeServices; keepAlive: KeepAlive };
}
