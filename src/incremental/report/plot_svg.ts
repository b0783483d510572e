/**
 * `miou.svg`: a line plot of old / new / all mIoU (percent, 0..100) over the
 * steps of a run, with axes, ticks, grid lines, a legend, one polyline per
 * series and a marker per point (a one-step run still shows its values).
 * Hand-written SVG, no dependency; opens in any browser.
 *
 * @module
 */
import type { StepMetrics } from "../types.ts";

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 56, right: 120, top: 32, bottom: 48 };
const MAX_TICKS = 20;

/** The plotted series: key in {@link StepMetrics}, legend label, colour. */
export const PLOT_SERIES = [
  { key: "miouOld", label: "old", colour: "#1f77b4" },
  { key: "miouNew", label: "new", colour: "#d62728" },
  { key: "miouAll", label: "all", colour: "#2ca02c" },
] as const;

/** Escapes text for XML content and attribute values. */
export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const fixed = (v: number) => v.toFixed(1);

/**
 * The plot as SVG text. The x axis spans steps 0 to the last step of
 * `totalSteps` (the task's step count) or of `metrics`, whichever is later.
 */
export const miouPlotSvg = (
  metrics: readonly StepMetrics[],
  title = "mIoU over steps",
  totalSteps = 0,
): string => {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lastStep = Math.max(1, totalSteps - 1, ...metrics.map((m) => m.step));
  const x = (step: number) => MARGIN.left + (plotW * step) / lastStep;
  // Clamped so that a value outside 0..100 cannot leave the plot area.
  const y = (percent: number) =>
    MARGIN.top + plotH * (1 - Math.min(100, Math.max(0, percent)) / 100);
  const bottom = MARGIN.top + plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let p = 0; p <= 100; p += 20) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${fixed(y(p))}" x2="${MARGIN.left + plotW}" ` +
        `y2="${fixed(y(p))}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${fixed(y(p) + 4)}" text-anchor="end">${p}</text>`,
    );
  }
  const stride = Math.ceil((lastStep + 1) / MAX_TICKS);
  for (let s = 0; s <= lastStep; s += stride) {
    parts.push(
      `<line x1="${fixed(x(s))}" y1="${bottom}" x2="${fixed(x(s))}" y2="${bottom + 5}" ` +
        `stroke="black"/>`,
      `<text x="${fixed(x(s))}" y="${bottom + 18}" text-anchor="middle">${s}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${MARGIN.left + plotW}" y2="${bottom}" ` +
      `stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" ` +
      `stroke="black"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">step</text>`,
    `<text x="14" y="${MARGIN.top + plotH / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 14 ${MARGIN.top + plotH / 2})">mIoU (%)</text>`,
  );
  PLOT_SERIES.forEach((series, i) => {
    // Steps where the series has no value (no new class yet, say) are skipped.
    const points = metrics
      .filter((m) => m[series.key] !== null)
      .map((m) => [fixed(x(m.step)), fixed(y(m[series.key]! * 100))] as const);
    parts.push(
      `<polyline data-series="${series.label}" fill="none" stroke="${series.colour}" ` +
        `stroke-width="2" points="${points.map(([px, py]) => `${px},${py}`).join(" ")}"/>`,
      ...points.map(([px, py]) =>
        `<circle data-series="${series.label}" cx="${px}" cy="${py}" r="3" ` +
        `fill="${series.colour}"/>`
      ),
    );
    const ly = MARGIN.top + 16 + i * 20;
    const lx = MARGIN.left + plotW + 16;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${series.colour}" ` +
        `stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${series.label}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
};
