// The dashboard's periods: local dates "YYYY-MM-DD" of the desk's time zone, inclusive at both
// ends (PRODUCT §10). Today comes from the server; the arithmetic runs on UTC noon so that neither
// the browser's time zone nor a daylight-saving change can move a day.

export const PRESETS = ["today", "7d", "30d", "month", "custom"];
export const DEFAULT_PRESET = "7d"; // the API's own default: the last 7 days to today
export const MAX_DAYS = 366; // the API refuses longer periods

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parse(key) {
  const [y, m, d] = key.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12));
}

export function isDate(key) {
  return typeof key === "string" && DATE.test(key) && parse(key).toISOString().slice(0, 10) === key;
}

export function addDays(key, days) {
  const date = parse(key);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** How many days from start to end, both counted. */
export function length({ start, end }) {
  return Math.round((parse(end) - parse(start)) / 86400000) + 1;
}

export function presetRange(preset, today) {
  switch (preset) {
    case "today":
      return { start: today, end: today };
    case "30d":
      return { start: addDays(today, -29), end: today };
    case "month":
      return { start: `${today.slice(0, 8)}01`, end: today };
    default:
      return { start: addDays(today, -6), end: today };
  }
}

/** The period of the same length that ends the day before `range` starts. */
export function previousPeriod(range) {
  const days = length(range);
  return { start: addDays(range.start, -days), end: addDays(range.start, -1) };
}

/** A clock of the desk: today's date in `timeZone` by the server's time, whatever the browser's
 * clock says (`serverNow` was the server's time when the page was made, read at `loadedAt`). */
export function deskClock(serverNow, timeZone, loadedAt = Date.now()) {
  const offset = new Date(serverNow).getTime() - loadedAt;
  const day = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  return () => day.format(new Date(Date.now() + offset));
}

export function includesDay(range, day) {
  return range.start <= day && day <= range.end;
}

/** "" when the API would accept the range, else the reason: "missing", "order" or "too-long". */
export function problem(range) {
  if (!isDate(range.start) || !isDate(range.end)) return "missing";
  if (range.end < range.start) return "order";
  if (length(range) > MAX_DAYS) return "too-long";
  return "";
}

/** The page's state from its address (?preset=30d or ?start=…&end=…, and &business_hours=1). */
export function fromSearch(search, today) {
  const params = new URLSearchParams(search);
  const businessHours = params.get("business_hours") === "1";
  const start = params.get("start");
  const end = params.get("end");
  if (isDate(start) && isDate(end)) return { preset: "custom", start, end, businessHours };
  const preset = PRESETS.includes(params.get("preset")) && params.get("preset") !== "custom"
    ? params.get("preset")
    : DEFAULT_PRESET;
  return { preset, ...presetRange(preset, today), businessHours };
}

export function toSearch(state) {
  const params = new URLSearchParams();
  if (state.preset === "custom") {
    params.set("start", state.start);
    params.set("end", state.end);
  } else {
    params.set("preset", state.preset);
  }
  if (state.businessHours) params.set("business_hours", "1");
  return `?${params}`;
}
