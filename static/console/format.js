// Dates, durations, previews and avatars, in the operator's language and the team's time zone.
import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";

let locale = "th-TH";
let timeZone = "Asia/Bangkok";

export function configure(language, zone) {
  locale = language === "th" ? "th-TH" : "en-GB";
  timeZone = zone || timeZone;
}

const cache = new Map();
function formatter(options) {
  const key = JSON.stringify(options);
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(locale, { timeZone, ...options }));
  return cache.get(key);
}

export function timeOfDay(iso) {
  return iso ? formatter({ hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso)) : "";
}

export function fullDateTime(iso) {
  return iso ? formatter({ dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "";
}

/** "2026-11-21" in the team's time zone: the key of a day separator. */
export function dayKey(iso) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(iso));
  return parts;
}

function todayKey(offsetDays = 0) {
  return dayKey(new Date(Date.now() - offsetDays * 86400000).toISOString());
}

export function dayLabel(key) {
  if (key === todayKey()) return gettext("Today");
  if (key === todayKey(1)) return gettext("Yesterday");
  const [y, m, d] = key.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d, 12)));
}

/** A list row's time: 14:05 today, "Yesterday", a weekday this week, else a short date. */
export function shortWhen(iso) {
  if (!iso) return "";
  const key = dayKey(iso);
  if (key === todayKey()) return timeOfDay(iso);
  if (key === todayKey(1)) return gettext("Yesterday");
  if (Date.now() - new Date(iso).getTime() < 6 * 86400000) return formatter({ weekday: "short" }).format(new Date(iso));
  return formatter({ day: "numeric", month: "short" }).format(new Date(iso));
}

/** 42 → "just now", 300 → "5 min", 4000 → "1 h 6 min". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return gettext("just now");
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return interpolate(gettext("%(minutes)s min"), { minutes });
  const hours = Math.floor(minutes / 60);
  return interpolate(gettext("%(hours)s h %(minutes)s min"), { hours, minutes: minutes % 60 });
}

export function since(iso) {
  return iso ? duration((Date.now() - new Date(iso).getTime()) / 1000) : "";
}

export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function statusLabel(status) {
  return {
    bot: gettext("Bot"),
    waiting: gettext("Waiting"),
    active: gettext("Active"),
    closed: gettext("Closed"),
  }[status] || status;
}

/** What an SLA alert or a row's SLA badge says: which target, due or overdue, and when it is due. */
export function slaLabel(sla) {
  const when = dayKey(sla.due_at) === todayKey() ? timeOfDay(sla.due_at) : fullDateTime(sla.due_at);
  const texts = sla.level === "breach"
    ? {
      first_response: gettext("First response overdue (due %(time)s)"),
      next_response: gettext("Reply overdue (due %(time)s)"),
      resolution: gettext("Resolution overdue (due %(time)s)"),
    }
    : {
      first_response: gettext("First response due %(time)s"),
      next_response: gettext("Reply due %(time)s"),
      resolution: gettext("Resolution due %(time)s"),
    };
  return interpolate(texts[sla.kind] || texts.resolution, { time: when });
}

/** One line describing a message, for list rows and notifications. */
export function previewText(message, me) {
  if (!message) return "";
  let body;
  if (message.is_unsent) body = gettext("Message unsent");
  else if (message.content_removed) body = gettext("Removed by the retention policy");
  else {
    const text = message.text || "";
    switch (message.type) {
      case "text": body = text; break;
      case "sticker": body = gettext("[Sticker]"); break;
      case "image": body = gettext("[Image]"); break;
      case "video": body = gettext("[Video]"); break;
      case "audio": body = gettext("[Audio]"); break;
      case "file": body = gettext("[File]") + " " + text; break;
      case "location": body = gettext("[Location]") + " " + text; break;
      case "flex":
      case "template": body = gettext("[Card]") + " " + (text || (message.payload && message.payload.altText) || ""); break;
      case "postback": body = gettext("[Tapped]") + " " + text; break;
      default: body = gettext("[Message]");
    }
  }
  body = body.replace(/\s+/g, " ").trim();
  if (message.sender_kind === "operator") {
    const mine = me && message.operator && message.operator.id === me.id;
    const who = mine || !message.operator ? gettext("You") : message.operator.name;
    return who + ": " + body;
  }
  if (message.sender_kind === "bot") return gettext("Bot") + ": " + body;
  return body;
}

// Dark enough that the white initial keeps 6:1 (WCAG AA asks 4.5:1).
const AVATAR_COLOURS = ["#046c4e", "#1a56db", "#6c2bd9", "#bf125d", "#b43403", "#036672", "#8e4b10", "#5145cd"];

/** The customer's LINE picture, or their initial on a colour derived from their id. */
export function avatar(contact, size = 36, role = "") {
  const name = (contact && contact.display_name) || "?";
  if (contact && contact.picture_url) {
    return h("img", {
      class: size > 40 ? "avatar avatar-large" : "avatar",
      src: contact.picture_url,
      alt: "",
      width: size,
      height: size,
      loading: "lazy",
      referrerpolicy: "no-referrer",
      "data-role": role || null,
    });
  }
  let hash = 0;
  for (const ch of String((contact && contact.line_user_id) || name)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return h("span", {
    class: `avatar avatar-initials${size > 40 ? " avatar-large" : ""}`,
    style: { background: AVATAR_COLOURS[hash % AVATAR_COLOURS.length] },
    "aria-hidden": "true",
    "data-role": role || null,
  }, Array.from(name)[0].toUpperCase());
}
