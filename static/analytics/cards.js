// The key-figure cards: each figure of `summary`, with its change against the previous period.
import { h } from "../console/dom.js";
import { gettext, interpolate } from "../console/i18n.js";
import * as format from "./format.js";

const median = (key) => (summary) => summary[key]?.p50 ?? null;

// kind: how the figure reads and how its change is told (counts and times: relative %;
// percents: points; ratings: the difference). better: which way is good news (null: neither).
const CARDS = [
  { key: "conversations", label: gettext("Conversations"), kind: "count", better: null, value: (s) => s.conversations },
  { key: "handoffs", label: gettext("Handed off to a person"), kind: "count", better: null, value: (s) => s.handoffs },
  { key: "claimed", label: gettext("Claimed"), kind: "count", better: null, value: (s) => s.claimed },
  { key: "abandoned", label: gettext("Abandoned"), kind: "count", better: "down", value: (s) => s.abandoned },
  { key: "bot_contained", label: gettext("Answered by the bot alone"), kind: "count", better: "up", value: (s) => s.bot_contained },
  { key: "wait_seconds", label: gettext("Wait before a claim"), kind: "seconds", better: "down", value: median("wait_seconds"), detail: "wait_seconds" },
  { key: "first_response_seconds", label: gettext("First response"), kind: "seconds", better: "down", value: median("first_response_seconds"), detail: "first_response_seconds" },
  { key: "resolution_seconds", label: gettext("Resolution"), kind: "seconds", better: "down", value: median("resolution_seconds"), detail: "resolution_seconds" },
  { key: "handle_seconds", label: gettext("Handling time"), kind: "seconds", better: "down", value: median("handle_seconds"), detail: "handle_seconds" },
  { key: "transfers", label: gettext("Transfers and returns"), kind: "count", better: "down", value: (s) => s.transfers },
  { key: "csat_average", label: gettext("CSAT average (1–5)"), kind: "rating", better: "up", value: (s) => s.csat?.average ?? null },
  { key: "csat_satisfied", label: gettext("Satisfied (4–5)"), kind: "percent", better: "up", value: (s) => s.csat?.satisfied_percent ?? null },
  { key: "csat_response_rate", label: gettext("Survey response rate"), kind: "percent", better: "up", value: (s) => s.csat?.response_rate ?? null },
  { key: "fcr_percent", label: gettext("Resolved at first contact"), kind: "percent", better: "up", value: (s) => s.fcr_percent },
  { key: "sla_first_response", label: gettext("First-response SLA met"), kind: "percent", better: "up", value: (s) => s.sla?.first_response?.hit_rate ?? null, sla: "first_response" },
  { key: "sla_resolution", label: gettext("Resolution SLA met"), kind: "percent", better: "up", value: (s) => s.sla?.resolution?.hit_rate ?? null, sla: "resolution" },
];

function show(kind, value) {
  if (kind === "seconds") return format.seconds(value);
  if (kind === "percent") return format.percent(value);
  if (kind === "rating") return format.number(value, 2);
  return format.number(value);
}

/** The change from `before` to `now`: its text and its direction ("up", "down", "flat"), or null
 * when there is nothing to compare with (no figure in one of the periods, or from zero). */
export function change(kind, now, before) {
  if (now === null || now === undefined || before === null || before === undefined) return null;
  const diff = now - before;
  const direction = Math.abs(diff) < 1e-9 ? "flat" : diff > 0 ? "up" : "down";
  const sign = diff > 0 ? "+" : diff < 0 ? "−" : "±";
  if (kind === "percent") {
    return { direction, text: interpolate(gettext("%(sign)s%(points)s pts"), { sign, points: format.number(Math.abs(diff), 1) }) };
  }
  if (kind === "rating") return { direction, text: `${sign}${format.number(Math.abs(diff), 2)}` };
  // From zero a percentage means nothing: the change itself says it ("+2" against 0).
  if (before === 0) return now === 0 ? { direction, text: "±0%" } : { direction, text: `${sign}${show(kind, Math.abs(diff))}` };
  return { direction, text: `${sign}${format.number(Math.abs(diff / before) * 100, 1)}%` };
}

function changeLine(card, now, before) {
  const delta = change(card.kind, now, before);
  if (!delta) {
    return h("p", { class: "kpi-change", "data-testid": "kpi-change", "data-direction": "none", text: gettext("No earlier figure to compare") });
  }
  const quality = !card.better || delta.direction === "flat" ? "neutral" : delta.direction === card.better ? "good" : "bad";
  const arrow = { up: "▲", down: "▼", flat: "■" }[delta.direction];
  return h(
    "p",
    { class: `kpi-change is-${quality}`, "data-testid": "kpi-change", "data-direction": delta.direction, "data-quality": quality },
    h("span", { "aria-hidden": "true", text: `${arrow} ` }),
    delta.text,
    " ",
    h("span", { class: "muted", text: interpolate(gettext("vs %(before)s"), { before: show(card.kind, before) }) }),
  );
}

/** An SLA card's target and tally: "target 5 min · 3 of 5 met", or that no target is set (its
 * hit rate is then no figure at all). */
function slaLine(card, summary) {
  const sla = summary.sla?.[card.sla];
  if (!sla) return null;
  if (sla.target_seconds === null) return h("p", { class: "kpi-detail muted", "data-testid": "kpi-detail", text: gettext("No target set") });
  const tally = interpolate(gettext("%(met)s of %(measured)s met"), { met: format.number(sla.met), measured: format.number(sla.measured) });
  const text = typeof sla.target_seconds === "number" ? `${interpolate(gettext("target %(target)s"), { target: format.seconds(sla.target_seconds) })} · ${tally}` : tally;
  return h("p", { class: "kpi-detail muted", "data-testid": "kpi-detail", text });
}

function detailLine(card, summary) {
  if (card.sla) return slaLine(card, summary);
  if (!card.detail) return null;
  const figure = summary[card.detail];
  if (!figure || !figure.count) return h("p", { class: "kpi-detail muted", "data-testid": "kpi-detail", text: gettext("Nothing measured") });
  return h("p", {
    class: "kpi-detail muted",
    "data-testid": "kpi-detail",
    text: interpolate(gettext("median · p90 %(p90)s · %(count)s measured"), { p90: format.seconds(figure.p90), count: format.number(figure.count) }),
  });
}

export function render(container, current, previous) {
  const cards = CARDS.map((card) => {
    const now = card.value(current);
    return h(
      "article",
      { class: "kpi", "data-testid": "kpi-card", "data-kpi": card.key },
      h("h3", { text: card.label }),
      h("p", { class: "kpi-value", "data-testid": "kpi-value", text: show(card.kind, now) }),
      changeLine(card, now, previous ? card.value(previous) : null),
      detailLine(card, current),
    );
  });
  container.replaceChildren(...cards);
  container.setAttribute("aria-busy", "false");
}
