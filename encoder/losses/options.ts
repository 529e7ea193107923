// Typed reads of the loose `options` records that configs carry, failing loudly on a wrong type.

export function numberOption(
  options: Record<string, unknown> | undefined,
  key: string,
  fallback: number,
  check: (v: number) => boolean = Number.isFinite,
): number {
  const value = options?.[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !check(value)) throw new TypeError(`option ${key}: invalid value ${String(value)}`);
  return value;
}

export function choiceOption<T extends string>(
  options: Record<string, unknown> | undefined,
  key: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = options?.[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new TypeError(`option ${key}: expected one of ${choices.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** An explicit +-1 matrix given as rows (tests, or centres saved from an earlier run). */
export function signRowsOption(
  options: Record<string, unknown> | undefined,
  key: string,
  rows: number,
  bits: number,
): Float32Array | undefined {
  const value = options?.[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== rows) throw new TypeError(`option ${key}: expected ${rows} rows`);
  const out = new Float32Array(rows * bits);
  value.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== bits || row.some((x) => x !== 1 && x !== -1)) {
      throw new TypeError(`option ${key}: row ${i} must be ${bits} values of +-1`);
    }
    out.set(row as number[], i * bits);
  });
  return out;
}
