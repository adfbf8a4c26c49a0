// The wallet's chart of both scores over epochs, as inline-SVG geometry: pure, so it is tested
// without a browser. Reputation runs 0 to 1000 and credit 300 to 850; both are drawn on one
// 0-to-1000 axis so the lines can be compared by eye (the table beside gives the numbers).

export interface ChartPoint {
  epoch: number;
  reputation: number;
  credit: number;
}

export interface ChartGeometry {
  width: number;
  height: number;
  /** Polyline points for the reputation line. */
  reputation: string;
  /** Polyline points for the credit line. */
  credit: string;
  /** Horizontal grid lines: value and y. */
  ticks: { value: number; y: number }[];
  /** Dots: x, y of each score of each epoch, oldest first. */
  dots: { epoch: number; x: number; yReputation: number; yCredit: number }[];
}

const PAD = { left: 40, right: 12, top: 12, bottom: 24 };

/** Geometry for `points` (any order; drawn oldest first) in a `width` x `height` box. */
export function chartGeometry(points: ChartPoint[], width = 640, height = 240): ChartGeometry {
  const sorted = [...points].sort((a, b) => a.epoch - b.epoch);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const clamp = (v: number) => Math.min(1000, Math.max(0, Number.isFinite(v) ? v : 0));
  const y = (v: number) => round(PAD.top + plotH - (clamp(v) / 1000) * plotH);
  const n = sorted.length;
  const x = (i: number) => round(n <= 1 ? PAD.left + plotW / 2 : PAD.left + (i / (n - 1)) * plotW);
  const dots = sorted.map((p, i) => ({ epoch: p.epoch, x: x(i), yReputation: y(p.reputation), yCredit: y(p.credit) }));
  return {
    width,
    height,
    reputation: dots.map((d) => `${d.x},${d.yReputation}`).join(' '),
    credit: dots.map((d) => `${d.x},${d.yCredit}`).join(' '),
    ticks: [0, 250, 500, 750, 1000].map((value) => ({ value, y: y(value) })),
    dots,
  };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
