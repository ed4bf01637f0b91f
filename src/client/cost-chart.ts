/**
 * The Costs page's chart: spending per day stacked by model, drawn with uPlot (bundled from npm,
 * small and canvas-based). The server puts the figures in the element's data-chart attribute;
 * the table under the chart has the same figures for readers without it.
 */
import uPlot from "uplot";

interface ChartData {
  days: string[];
  models: string[];
  /** Per model, its spending on each day, in USD. */
  costs: number[][];
}

const PALETTE = ["#1f6feb", "#d97706", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"];

function draw(element: HTMLElement): void {
  const data = JSON.parse(element.dataset.chart ?? "null") as ChartData | null;
  if (!data || data.days.length === 0) return;
  const x = data.days.map((_, i) => i);
  // Stacked bars: model i's bar runs from the sum of the models before it to that sum plus its own.
  // uPlot draws series in order, so the tallest (every model) goes first and each next one over it.
  const cumulative: number[][] = [];
  let running = data.days.map(() => 0);
  for (const costs of data.costs) {
    running = running.map((sum, day) => sum + (costs[day] ?? 0));
    cumulative.push(running);
  }
  const order = data.models.map((_, i) => i).reverse();
  const style = getComputedStyle(document.body);
  const ink = style.color || "#888";
  const grid = "rgba(128,128,128,0.2)";
  const bars = uPlot.paths.bars!({ size: [0.7, 48], gap: 1 });
  const money = (v: number | null) => (v === null ? "–" : `$${v.toFixed(2)}`);
  const options: uPlot.Options = {
    width: Math.max(element.clientWidth, 200),
    height: 260,
    scales: { x: { time: false, range: [-0.5, data.days.length - 0.5] } },
    axes: [
      {
        stroke: ink,
        grid: { show: false },
        ticks: { stroke: grid },
        values: (_u, splits) => splits.map((i) => (Number.isInteger(i) && data.days[i] ? data.days[i]!.slice(5) : "")),
      },
      { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, values: (_u, splits) => splits.map((v) => `$${v}`), size: 60 },
    ],
    legend: { live: true },
    cursor: { points: { show: false } },
    series: [
      { label: "Day", value: (_u, i) => (i === null ? "" : (data.days[Math.round(i)] ?? "")) },
      ...order.map((m) => ({
        label: data.models[m]!,
        fill: PALETTE[m % PALETTE.length]!,
        stroke: PALETTE[m % PALETTE.length]!,
        width: 0,
        paths: bars,
        points: { show: false },
        // The legend shows the model's own figure, not the stack's height.
        value: (_u: uPlot, _v: number | null, _si: number, day: number | null) => money(day === null ? null : (data.costs[m]![day] ?? 0)),
      })),
    ],
  };
  const chart = new uPlot(options, [x, ...order.map((m) => cumulative[m]!)], element);
  new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 200), height: 260 })).observe(element);
}

const element = document.getElementById("cost-chart");
if (element) draw(element);
