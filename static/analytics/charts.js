// Charts (Chart.js, vendored in static/vendor/chartjs/) each with its numbers as a table, so a
// screen reader — or anyone who wants the exact figures — reads the same data as the drawing.
import { h } from "../console/dom.js";
import { gettext, interpolate } from "../console/i18n.js";

const { Chart } = window;

export const COLORS = ["#06c755", "#2563eb", "#b45309", "#d92d20", "#7c3aed", "#0891b2"];

/** Destroy the charts drawn inside `container` (before it is drawn again). */
export function clear(container) {
  for (const canvas of container.querySelectorAll("canvas")) Chart.getChart(canvas)?.destroy();
  container.replaceChildren();
}

function numbersTable(title, labels, series, show, firstHeader) {
  return h(
    "table",
    { class: "numbers", "data-testid": "chart-table" },
    h("caption", { class: "visually-hidden", text: title }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: firstHeader }), series.map((s) => h("th", { scope: "col", text: s.label })))),
    h(
      "tbody",
      {},
      labels.map((label, row) =>
        h("tr", {}, h("th", { scope: "row", text: label }), series.map((s) => h("td", { text: show(s.data[row]) }))),
      ),
    ),
  );
}

/**
 * A figure: title, a chart (a picture for the eye, with a label that points to the table), and a
 * "Show the numbers" table. spec = {id, title, type: "line"|"bar"|"doughnut", labels,
 * series: [{label, data}], show: value → text, firstHeader, horizontal, integer (counts: no
 * fractional ticks), stepSize, max, suggestedMax (the value axis), note}.
 */
export function figure(spec) {
  const canvas = h("canvas", {
    role: "img",
    "aria-label": interpolate(gettext("%(title)s: chart. The numbers are in the table below it."), { title: spec.title }),
  });
  const element = h(
    "figure",
    { class: `chart-card chart-${spec.type}`, "data-testid": `chart-${spec.id}` },
    h("figcaption", { text: spec.title }),
    h("div", { class: "chart-box" }, canvas),
    spec.note ? h("p", { class: "muted small", "data-testid": "chart-note", text: spec.note }) : null,
    h(
      "details",
      { class: "chart-numbers" },
      h("summary", { text: gettext("Show the numbers") }),
      numbersTable(spec.title, spec.labels, spec.series, spec.show, spec.firstHeader),
    ),
  );
  const round = spec.type === "doughnut";
  // Drawn once the figure is in the page (Chart.js measures its box).
  element.draw = () =>
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s, i) => ({
          label: s.label,
          data: s.data,
          backgroundColor: round ? COLORS.slice(0, s.data.length) : COLORS[i % COLORS.length],
          borderColor: round ? "#fff" : COLORS[i % COLORS.length],
          borderWidth: 2,
          pointRadius: spec.labels.length > 40 ? 0 : 2,
          tension: 0.25,
          spanGaps: true,
        })),
      },
      options: {
        animation: false, // a dashboard refreshes; motion on every refresh only distracts
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        locale: document.documentElement.lang === "th" ? "th-TH" : "en-GB",
        plugins: {
          legend: { display: round || spec.series.length > 1 },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${spec.show(item.raw)}` } },
        },
        scales: round
          ? {}
          : {
              [spec.horizontal ? "x" : "y"]: {
                beginAtZero: true,
                max: spec.max,
                suggestedMax: spec.suggestedMax,
                ticks: {
                  precision: spec.integer ? 0 : undefined,
                  stepSize: spec.stepSize,
                  callback: (value) => spec.show(value),
                },
              },
            },
      },
    });
  return element;
}

/** Put figures into `container` and draw them. */
export function place(container, figures) {
  clear(container);
  container.append(...figures);
  for (const item of figures) item.draw();
}
