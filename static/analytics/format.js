// Numbers, durations, percents and dates as the dashboard shows them, in the page's language.
import { gettext, interpolate } from "../console/i18n.js";

let locale = "th-TH";
let timeZone = "Asia/Bangkok";

export function configure(language, zone) {
  locale = language === "th" ? "th-TH" : "en-GB";
  timeZone = zone || timeZone;
}

export const NONE = "—"; // no figure: nothing was measured (count 0, zero denominator)

export function number(value, digits = 0) {
  if (value === null || value === undefined) return NONE;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

export function percent(value) {
  return value === null || value === undefined ? NONE : `${number(value, 1)}%`;
}

/** 42 → "42 s", 120 → "2 min", 305 → "5 min 5 s", 3600 → "1 h", 4000 → "1 h 6 min". */
export function seconds(value) {
  if (value === null || value === undefined) return NONE;
  const s = Math.round(value);
  if (s < 60) return interpolate(gettext("%(seconds)s s"), { seconds: s });
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    if (s % 60 === 0) return interpolate(gettext("%(minutes)s min"), { minutes });
    return interpolate(gettext("%(minutes)s min %(seconds)s s"), { minutes, seconds: s % 60 });
  }
  const hours = Math.floor(minutes / 60);
  if (minutes % 60 === 0) return interpolate(gettext("%(hours)s h"), { hours });
  return interpolate(gettext("%(hours)s h %(minutes)s min"), { hours, minutes: minutes % 60 });
}

function utcNoon(key) {
  const [y, m, d] = key.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** "2026-11-01" → "1 Nov 2026" (a local date of the desk: formatted as is, no time zone). */
export function date(key, options = { day: "numeric", month: "short", year: "numeric" }) {
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" }).format(utcNoon(key));
}

/** A timeseries bucket: "2026-11-01" → "1 Nov", "2026-11-01T13:00" → "13:00". */
export function bucket(key) {
  return key.includes("T") ? key.slice(11, 16) : date(key, { day: "numeric", month: "short" });
}

export function range({ start, end }) {
  return start === end ? date(start) : `${date(start)} – ${date(end)}`;
}

/** Monday = 0 … Sunday = 6 (the API's weekdays) → the day's short name. */
export function weekday(index) {
  // 2024-01-01 was a Monday.
  return date(`2024-01-0${index + 1}`, { weekday: "short" });
}

export function timeOfDay(when = new Date()) {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false })
    .format(when);
}
