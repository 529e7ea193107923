// What a CLI command is: one file per command under encoder/commands/, found by name at run time, so
// adding a command touches nothing else.
// Kept free of heavy imports (tfjs loads only in the commands that train or run a model).
import type { ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.js';

/** A mistake in how the command was called: printed without a stack trace, exit code 2. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

export type CommandValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  /** One line per form, without the leading "edgehash ". */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments allowed (default false). */
  allowPositionals?: boolean;
  run(values: CommandValues, positionals: string[]): Promise<void>;
}

export function requireString(values: Record<string, unknown>, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '')
    throw new UsageError(`--${name} is required\nusage: edgehash ${usage}`);
  return value;
}
