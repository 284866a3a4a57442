// What each chart shows: the trends (`timeseries`), the funnel, the CSAT ratings and LINE's
// free replies against paid pushes — turned into charts.figure specs.
import { gettext, interpolate } from "../console/i18n.js";
import * as format from "./format.js";

const count = (value) => format.number(value);
const rating = (value) => format.number(value, 2);

const TRENDS = [
  { key: "conversations", integer: true, title: gettext("Conversations"), show: count },
  { key: "handoffs", integer: true, title: gettext("Handed off to a person"), show: count },
  { key: "claimed", integer: true, title: gettext("Claimed"), show: count },
  { key: "abandoned", integer: true, title: gettext("Abandoned"), show: count },
  { key: "bot_contained", integer: true, title: gettext("Answered by the bot alone"), show: count },
  { key: "wait_p50", title: gettext("Median wait before a claim"), show: format.seconds, duration: true },
  { key: "first_response_p50", title: gettext("Median first response"), show: format.seconds, duration: true },
  { key: "resolution_p50", title: gettext("Median resolution"), show: format.seconds, duration: true },
  { key: "csat_average", title: gettext("CSAT average (1–5)"), show: rating, max: 5 },
];

// Steps a time axis reads well in: seconds, minutes, hours, days.
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const DAY = 86400;

/** The step of a time axis up to `most` seconds: at most six steps, each a round time (Chart.js'
 * own steps are round numbers of seconds — "3 min 20 s" — or, below a few seconds, fractions
 * that round to the same label twice). No figure at all: a minute. */
export function timeStep(most) {
  if (!most) return 60;
  return TIME_STEPS.find((step) => most / step <= 6) ?? Math.ceil(most / 6 / DAY) * DAY;
}

export function trends(timeseries) {
  const labels = timeseries.points.map((point) => format.bucket(point.bucket));
  const firstHeader = timeseries.interval === "hour" ? gettext("Hour") : gettext("Day");
  return TRENDS.map((metric) => {
    const data = timeseries.points.map((point) => point[metric.key]);
    const step = metric.duration ? timeStep(Math.max(0, ...data.filter((value) => value !== null))) : undefined;
    return {
      id: `trend-${metric.key}`,
      title: metric.title,
      type: "line",
      labels,
      firstHeader,
      show: metric.show,
      integer: Boolean(metric.integer),
      max: metric.max,
      stepSize: step,
      suggestedMax: step,
      series: [{ label: metric.title, data }],
    };
  });
}

const FUNNEL_STEPS = {
  conversations: () => gettext("Conversations"),
  handoffs: () => gettext("Handed off to a person"),
  claimed: () => gettext("Claimed"),
  responded: () => gettext("Answered by an operator"),
  closed: () => gettext("Closed"),
  rated: () => gettext("Rated"),
};

export function funnel(data) {
  const first = data.steps[0]?.count || 0;
  const title = gettext("Funnel");
  return {
    id: "funnel",
    title,
    type: "bar",
    horizontal: true,
    labels: data.steps.map((step) => (FUNNEL_STEPS[step.key] || (() => step.key))()),
    firstHeader: gettext("Step"),
    show: count,
    integer: true,
    series: [{ label: gettext("Conversations"), data: data.steps.map((step) => step.count) }],
    note: first
      ? interpolate(gettext("%(percent)s of conversations reached a person."), {
          percent: format.percent(((data.steps.find((s) => s.key === "claimed")?.count || 0) / first) * 100),
        })
      : "",
  };
}

export function csat(summary) {
  const distribution = summary.csat?.distribution || {};
  const stars = ["1", "2", "3", "4", "5"];
  return {
    id: "csat-distribution",
    title: gettext("Ratings"),
    type: "bar",
    labels: stars.map((star) => interpolate(gettext("%(rating)s of 5"), { rating: star })),
    firstHeader: gettext("Rating"),
    show: count,
    integer: true,
    series: [{ label: gettext("Responses"), data: stars.map((star) => distribution[star] ?? 0) }],
  };
}

export function lineCost(summary) {
  const line = summary.line || { reply_sends: 0, push_sends: 0 };
  return {
    id: "line-cost",
    title: gettext("Messages sent to LINE"),
    type: "doughnut",
    labels: [gettext("Replies (free)"), gettext("Pushes (paid)")],
    firstHeader: gettext("How it was sent"),
    show: count,
    series: [{ label: gettext("Messages"), data: [line.reply_sends, line.push_sends] }],
  };
}
