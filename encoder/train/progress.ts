// One status line for long loops: done/total, images per second, ETA. Redrawn in place on a TTY,
// printed every few seconds otherwise (logs, CI).

const formatDuration = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '?';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
};

export class Progress {
  private readonly start = performance.now();
  private lastPrint = 0;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  get imagesPerSecond(): number {
    return this.done / Math.max((performance.now() - this.start) / 1000, 1e-9);
  }

  update(done: number, detail = ''): void {
    this.done = done;
    const now = performance.now();
    const tty = this.stream.isTTY;
    if (done < this.total && now - this.lastPrint < (tty ? 200 : 10_000)) return;
    this.lastPrint = now;
    const rate = this.imagesPerSecond;
    const eta = (this.total - done) / rate;
    const width = 24;
    const filled = Math.round((done / Math.max(this.total, 1)) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `${this.label} ${bar} ${done}/${this.total} ${rate.toFixed(0)} img/s ETA ${formatDuration(eta)} ${detail}`;
    this.stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    if (tty && done >= this.total) this.stream.write('\n');
  }
}
