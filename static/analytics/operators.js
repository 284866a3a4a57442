// The operators' table (`operators`): who claimed and closed how many, how fast, how rated —
// ranked by conversations claimed.
import { h } from "../console/dom.js";
import { gettext } from "../console/i18n.js";
import * as format from "./format.js";

const COLUMNS = [
  { label: () => gettext("Claimed"), show: (o) => format.number(o.claimed) },
  { label: () => gettext("Closed"), show: (o) => format.number(o.closed) },
  { label: () => gettext("Median wait"), show: (o) => format.seconds(o.wait_seconds?.p50) },
  { label: () => gettext("Median first response"), show: (o) => format.seconds(o.first_response_seconds?.p50) },
  { label: () => gettext("Median handling time"), show: (o) => format.seconds(o.handle_seconds?.p50) },
  { label: () => gettext("CSAT average"), show: (o) => format.number(o.csat_average, 2) },
  { label: () => gettext("CSAT responses"), show: (o) => format.number(o.csat_responses) },
];

export function render(container, data) {
  const operators = [...data.operators].sort((a, b) => b.claimed - a.claimed || a.name.localeCompare(b.name));
  if (!operators.length) {
    container.replaceChildren(h("p", { class: "muted", "data-testid": "operators-empty", text: gettext("No conversation was claimed in this period.") }));
    return;
  }
  container.replaceChildren(
    h(
      "table",
      { class: "numbers operators", "data-testid": "operators-table" },
      h("caption", { class: "visually-hidden", text: gettext("Operators, by conversations claimed") }),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col", text: "#" }), h("th", { scope: "col", text: gettext("Operator") }), COLUMNS.map((c) => h("th", { scope: "col", text: c.label() }))),
      ),
      h(
        "tbody",
        {},
        operators.map((operator, index) =>
          h(
            "tr",
            { "data-testid": "operator-row", "data-operator-id": operator.id },
            h("td", { text: format.number(index + 1) }),
            h("th", { scope: "row", text: operator.name }),
            COLUMNS.map((c) => h("td", { text: c.show(operator) })),
          ),
        ),
      ),
    ),
  );
}
