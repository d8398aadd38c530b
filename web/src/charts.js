// uPlot charts: a figure with a caption (its accessible name), sized to its container.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom.js";

const hm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const hms = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dayTime = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

/** 24-hour tick labels; the day where ticks are a day or more apart. */
function timeTicks(u, splits, axisIdx, space, incr) {
  const fmt = incr >= 86400 ? dayFmt : incr < 60 ? hms : hm;
  return splits.map((v) => (v == null ? "" : fmt.format(new Date(v * 1000))));
}

export const COLORS = ["#0b6e4f", "#d9480f", "#5c7cfa", "#868e96"];

/** Shaded time ranges behind the series: [{start, end, color}] in x-scale units. */
function bandsPlugin(getBands) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const bands = getBands();
          if (!bands.length) return;
          const { ctx } = u;
          const { top, height, left, width } = u.bbox;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          for (const band of bands) {
            const x0 = u.valToPos(band.start, "x", true);
            const x1 = u.valToPos(band.end, "x", true);
            const y0 = band.bottom ? top + height * (1 - band.bottom) : top;
            const hgt = band.bottom ? height * band.bottom : height;
            ctx.fillStyle = band.color;
            const px = band.px ? band.px * devicePixelRatio : Math.max(1, x1 - x0);
            ctx.fillRect(band.px ? x0 - px / 2 : x0, y0, px, hgt);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * A chart in a <figure>. `options`: { caption, series: [{label, color, unit, bars, stepped}],
 * height, time (x is epoch s, default true), yLabel, zoom (drag to zoom x), bands: () => [...] }.
 */
export function chart(options) {
  const plot = h("div", { class: "plot" });
  const summary = h("p", { class: "chart-summary" });
  const caption = h("figcaption", { class: options.showCaption ? "" : "visually-hidden" }, options.caption);
  const figure = h("figure", { class: "chart", dataset: { points: 0 } }, caption, plot, summary);
  let instance = null;
  let data = [[], ...options.series.map(() => [])];
  let pendingSize = null;

  const series = [
    {
      value: (u, v) => (v == null ? "–" : (options.days ? dayFmt : dayTime).format(new Date(v * 1000))),
    },
    ...options.series.map((s, i) => {
      const color = s.color || COLORS[i % COLORS.length];
      const out = {
        label: s.label,
        stroke: color,
        width: s.bars ? 0 : 2,
        fill: s.bars ? color : s.fill,
        points: { show: false },
        spanGaps: false,
        value: (u, v) => (v == null ? "–" : `${v.toFixed(s.digits ?? 2)} ${s.unit || ""}`.trim()),
      };
      if (s.bars) out.paths = uPlot.paths.bars({ size: [0.8 / options.series.length, 60], align: s.barAlign ?? 0 });
      if (s.stepped) out.paths = uPlot.paths.stepped({ align: 1 });
      return out;
    }),
  ];

  function isZoomed(u) {
    const xs = data[0];
    if (!xs.length) return false;
    const { min, max } = u.scales.x;
    return min > xs[0] + 1e-6 || max < xs[xs.length - 1] - 1e-6;
  }

  function scales() {
    const x = { time: options.time !== false };
    const y = {};
    if (options.xRange) x.range = options.xRange;
    if (options.yRange) y.range = options.yRange;
    return { x, y };
  }

  function makeOpts(width) {
    return {
      width,
      height: options.height || 220,
      series,
      scales: scales(),
      axes: [
        {
          stroke: "#495057",
          grid: { stroke: "#e9ecef" },
          ticks: { stroke: "#dee2e6" },
          values: options.time === false ? undefined : timeTicks,
          ...(options.xSplits ? { splits: options.xSplits } : {}),
        },
        {
          stroke: "#495057",
          grid: { stroke: "#e9ecef" },
          ticks: { stroke: "#dee2e6" },
          label: options.yLabel,
          size: 52,
        },
      ],
      cursor: { drag: { x: options.zoom !== false, y: false, setScale: options.zoom !== false } },
      legend: { live: true },
      plugins: options.bands ? [bandsPlugin(options.bands)] : [],
      hooks: {
        setScale: [
          (u, key) => {
            if (key === "x") figure.dataset.zoomed = String(isZoomed(u));
          },
        ],
      },
    };
  }

  function width() {
    return Math.max(240, Math.floor(plot.clientWidth || figure.clientWidth || 600));
  }

  function ensure() {
    if (instance || !figure.isConnected) return;
    instance = new uPlot(makeOpts(width()), data, plot);
  }

  const resize = new ResizeObserver(() => {
    if (!instance) {
      ensure();
      return;
    }
    cancelAnimationFrame(pendingSize);
    pendingSize = requestAnimationFrame(() => {
      const w = width();
      if (Math.abs(w - instance.width) > 2) instance.setSize({ width: w, height: options.height || 220 });
    });
  });
  resize.observe(plot);

  return {
    el: figure,
    /** [xs, ys1, ys2, ...]; keepZoom leaves a zoomed-in x range alone */
    setData(next, { keepZoom = false, summary: text } = {}) {
      data = next;
      const points = next.slice(1).reduce((n, ys) => n + ys.filter((v) => v != null).length, 0);
      figure.dataset.points = String(points);
      if (text !== undefined) summary.textContent = text;
      ensure();
      if (instance) instance.setData(next, !keepZoom);
    },
    redraw() {
      instance?.redraw(false, false);
    },
    resetZoom() {
      if (instance) instance.setData(data, true);
    },
    isZoomed() {
      return instance ? isZoomed(instance) : false;
    },
    destroy() {
      resize.disconnect();
      instance?.destroy();
      instance = null;
    },
  };
}
