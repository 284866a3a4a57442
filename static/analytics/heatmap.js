// Handoffs by weekday × hour (`heatmap`): a table whose cells are shaded by their count — the
// numbers themselves are in the cells, so the table is the chart and its accessible form at once.
import { h } from "../console/dom.js";
import { gettext } from "../console/i18n.js";
import * as format from "./format.js";

export function render(container, data) {
  const counts = new Map(data.cells.map((cell) => [`${cell.weekday}:${cell.hour}`, cell.handoffs]));
  const most = Math.max(0, ...counts.values());
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  const table = h(
    "table",
    { class: "heatmap", "data-testid": "heatmap-table" },
    h("caption", { class: "visually-hidden", text: gettext("Handoffs by weekday and hour") }),
    h(
      "thead",
      {},
      h("tr", {}, h("td"), hours.map((hour) => h("th", { scope: "col", text: String(hour).padStart(2, "0") }))),
    ),
    h(
      "tbody",
      {},
      Array.from({ length: 7 }, (_, weekday) =>
        h(
          "tr",
          {},
          h("th", { scope: "row", text: format.weekday(weekday) }),
          hours.map((hour) => {
            const count = counts.get(`${weekday}:${hour}`) ?? 0;
            return h("td", {
              "data-testid": "heatmap-cell",
              "data-weekday": weekday,
              "data-hour": hour,
              style: `--level: ${most ? (count / most).toFixed(3) : 0}`, // a custom property: not settable through el.style
              class: !count ? "is-zero" : count / most > 0.55 ? "is-hot" : "",
              text: format.number(count),
            });
          }),
        ),
      ),
    ),
  );
  container.replaceChildren(table, h("p", { class: "muted small", text: gettext("Local time of the first request for a person.") }));
}
