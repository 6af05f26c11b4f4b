interface Props {
  values: Array<number | null>;
  label: string;
  width?: number;
  height?: number;
}

/**
 * The points of a sparkline: `slots` samples across the box (the newest at the right edge), values
 * scaled to its height; null values are skipped.
 */
export function sparkPoints(values: Array<number | null>, width: number, height: number, slots: number): string {
  const max = Math.max(1e-9, ...values.map((v) => v ?? 0));
  const step = width / Math.max(1, slots - 1);
  const offset = slots - values.length;
  return values
    .map((v, i) =>
      v === null
        ? undefined
        : `${((offset + i) * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`,
    )
    .filter((p) => p !== undefined)
    .join(' ');
}

/** A rate over time as a small SVG line (attributes only: the page's CSP allows no inline styles). */
export function Sparkline({ values, label, width = 120, height = 28 }: Props) {
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <rect class="spark-area" width={width} height={height} rx="3" />
      <polyline
        points={sparkPoints(values, width, height, values.length)}
        fill="none"
        stroke="currentColor"
        stroke-width="1.5"
      />
    </svg>
  );
}
