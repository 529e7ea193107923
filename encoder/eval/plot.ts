// Minimal SVG line charts for the PR and P@N curves. Hand-written because a chart library would
// pull a DOM or canvas into a CLI for two static plots; this is about 50 lines and has no deps.

export interface Series {
  label: string;
  x: number[];
  y: number[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
}

const WIDTH = 520;
const HEIGHT = 380;
const PAD = { left: 60, right: 20, top: 36, bottom: 50 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function lineChart(series: Series[], options: ChartOptions): string {
  const xs = series.flatMap((s) => s.x);
  const tx = (v: number) => (options.logX ? Math.log10(Math.max(v, 1)) : v);
  const x0 = Math.min(...xs.map(tx));
  const x1 = Math.max(...xs.map(tx), x0 + 1e-9);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const px = (v: number) => PAD.left + ((tx(v) - x0) / (x1 - x0)) * plotW;
  const py = (v: number) => PAD.top + (1 - v) * plotH;
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    .map(
      (t) =>
        `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>` +
        `<text x="${PAD.left - 8}" y="${py(t) + 4}" text-anchor="end">${t.toFixed(1)}</text>`,
    )
    .join('');
  const xTicks = Array.from({ length: 6 }, (_, i) => x0 + ((x1 - x0) * i) / 5)
    .map((t) => {
      const value = options.logX ? 10 ** t : t;
      const label = value >= 10 ? Math.round(value).toString() : value.toFixed(1);
      const at = PAD.left + ((t - x0) / (x1 - x0)) * plotW;
      return `<text x="${at}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${label}</text>`;
    })
    .join('');
  const lines = series
    .map((s, i) => {
      const points = s.x.map((x, j) => `${px(x).toFixed(1)},${py(s.y[j]).toFixed(1)}`).join(' ');
      const colour = COLOURS[i % COLOURS.length];
      return (
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>` +
        `<text x="${WIDTH - PAD.right - 4}" y="${PAD.top + 16 + i * 16}" text-anchor="end" fill="${colour}">${escapeXml(s.label)}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12" role="img">` +
    `<title>${escapeXml(options.title)}</title>` +
    `<rect width="100%" height="100%" fill="white"/>${ticks}${xTicks}` +
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>` +
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>` +
    `<text x="${WIDTH / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>` +
    `<text transform="translate(16 ${HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>` +
    `${lines}</svg>\n`
  );
}
