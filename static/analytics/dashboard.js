/*
 * The analytics dashboard (/analytics/): the period and business-hours controls, then every
 * section drawn from the analytics API. While the period includes today the key figures refresh
 * by themselves.
 *
 * Stable hooks for tests — data-testid values:
 *   controls      preset-today, preset-7d, preset-30d, preset-month, preset-custom [aria-pressed],
 *                 range-start, range-end, business-hours-toggle, download-csv, range-label,
 *                 live-badge, dashboard-error, language-th, language-en
 *   sections      kpi-cards > kpi-card [data-kpi] > kpi-value, kpi-change [data-direction], kpi-detail;
 *                 trend-charts > chart-trend-<metric>; heatmap > heatmap-cell [data-weekday,
 *                 data-hour]; funnel > chart-funnel; operators > operator-row; csat >
 *                 chart-csat-distribution; line-cost > chart-line-cost; every chart's chart-table
 */
import { byTestId } from "../console/dom.js";
import { gettext, interpolate } from "../console/i18n.js";
import { getJson, periodParams } from "./api.js";
import * as cards from "./cards.js";
import * as charts from "./charts.js";
import * as figures from "./figures.js";
import * as format from "./format.js";
import * as heatmap from "./heatmap.js";
import * as operators from "./operators.js";
import * as period from "./period.js";

const config = JSON.parse(document.getElementById("dashboard-config").textContent);
format.configure(document.documentElement.lang, config.time_zone);

const deskToday = period.deskClock(config.now, config.time_zone);
let state = period.fromSearch(window.location.search, config.today);
let previousSummary = null; // the comparison period's summary, kept for the live refreshes
let generation = 0; // answers to an older request (the period changed meanwhile) are dropped
let liveTimer = null;

const api = (endpoint, params) => getJson(config.api_root, endpoint, params);

function showError(message) {
  const banner = byTestId("dashboard-error");
  banner.textContent = message || "";
  banner.hidden = !message;
}

function rangeProblem(range) {
  const problem = period.problem(range);
  if (problem === "missing") return gettext("Choose both dates.");
  if (problem === "order") return gettext("The end date is before the start date.");
  if (problem === "too-long") return interpolate(gettext("Choose at most %(days)s days."), { days: period.MAX_DAYS });
  return "";
}

/** The controls, the address and the CSV link, as the state says. */
function showState() {
  for (const button of document.querySelectorAll("[data-preset]")) {
    button.setAttribute("aria-pressed", String(button.dataset.preset === state.preset));
  }
  byTestId("range-start").value = state.start;
  byTestId("range-end").value = state.end;
  byTestId("business-hours-toggle").checked = state.businessHours;
  const search = period.toSearch(state);
  window.history.replaceState(null, "", search);
  // Switching the language comes back to the same period.
  document.querySelector("[data-testid=language-form] input[name=next]").value = `${window.location.pathname}${search}`;
  // The CSV of what the page shows: its durations count business hours too when the switch is on.
  const csv = new URLSearchParams(periodParams(state, state.businessHours));
  byTestId("download-csv").href = `${config.export_csv}?${csv}`;
}

async function load() {
  const range = { start: state.start, end: state.end };
  const problem = rangeProblem(range);
  const mine = ++generation; // from now on, answers for the period before are dropped
  stopLive(); // the figures on the page are about to be of another period (or of none)
  showState();
  if (problem) {
    showError(problem);
    return;
  }
  showError("");
  const params = periodParams(range, state.businessHours);
  const before = period.previousPeriod(range);
  byTestId("range-label").textContent = interpolate(gettext("%(period)s, compared with %(before)s"), {
    period: format.range(range),
    before: format.range(before),
  });
  byTestId("kpi-cards").setAttribute("aria-busy", "true");
  try {
    const [summary, previous, timeseries, cells, people, steps] = await Promise.all([
      api("summary", params),
      api("summary", periodParams(before, state.businessHours)),
      api("timeseries", { ...params, interval: period.length(range) === 1 ? "hour" : "day" }),
      api("heatmap", params),
      api("operators", params),
      api("funnel", params),
    ]);
    if (mine !== generation) return;
    previousSummary = previous;
    cards.render(byTestId("kpi-cards"), summary, previous);
    charts.place(byTestId("trend-charts"), figures.trends(timeseries).map(charts.figure));
    heatmap.render(byTestId("heatmap"), cells);
    charts.place(byTestId("funnel"), [charts.figure(figures.funnel(steps))]);
    operators.render(byTestId("operators"), people);
    charts.place(byTestId("csat"), [charts.figure(figures.csat(summary))]);
    charts.place(byTestId("line-cost"), [charts.figure(figures.lineCost(summary))]);
  } catch (error) {
    if (mine !== generation) return;
    showError(interpolate(gettext("Could not load the figures: %(reason)s"), { reason: error.message }));
    return;
  }
  scheduleLive(range);
}

function stopLive() {
  window.clearInterval(liveTimer);
  liveTimer = null;
  byTestId("live-badge").hidden = true;
}

/** While the period includes today, today's figures change: refresh the cards now and then. */
function scheduleLive(range) {
  const badge = byTestId("live-badge");
  badge.hidden = !period.includesDay(range, config.today);
  if (badge.hidden) return;
  badge.textContent = interpolate(gettext("Live · updated %(time)s"), { time: format.timeOfDay() });
  liveTimer = window.setInterval(() => refreshCards(range), config.refresh_seconds * 1000);
}

async function refreshCards(range) {
  if (document.hidden) return; // nobody is looking; the next tick will do
  const today = deskToday();
  if (today !== config.today) {
    // Midnight passed with the page open: "today" and the presets move on to the new day.
    config.today = today;
    if (state.preset !== "custom") state = { ...state, ...period.presetRange(state.preset, today) };
    load();
    return;
  }
  const mine = generation;
  try {
    const summary = await api("summary", periodParams(range, state.businessHours));
    if (mine !== generation) return;
    cards.render(byTestId("kpi-cards"), summary, previousSummary);
    byTestId("live-badge").textContent = interpolate(gettext("Live · updated %(time)s"), { time: format.timeOfDay() });
  } catch {
    // a missed refresh is not worth a banner: the next one tries again
  }
}

for (const button of document.querySelectorAll("[data-preset]")) {
  button.addEventListener("click", () => {
    const preset = button.dataset.preset;
    state = preset === "custom" ? { ...state, preset } : { ...state, preset, ...period.presetRange(preset, config.today) };
    if (preset === "custom") {
      showState();
      byTestId("range-start").focus();
      return;
    }
    load();
  });
}

for (const id of ["range-start", "range-end"]) {
  byTestId(id).addEventListener("change", () => {
    state = { ...state, preset: "custom", start: byTestId("range-start").value, end: byTestId("range-end").value };
    load();
  });
}

byTestId("business-hours-toggle").addEventListener("change", (event) => {
  state = { ...state, businessHours: event.target.checked };
  load();
});

load();
