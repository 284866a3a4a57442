// One chat message as DOM: every LINE message type, the sender's styling, the delivery state.
import { h } from "./dom.js";
import { fileSize, timeOfDay } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { icon } from "./icons.js";
import { shown } from "../shared/own_urls.js";

const STICKER_URL = (id) => `https://stickershop.line-scdn.net/stickershop/v1/sticker/${encodeURIComponent(id)}/android/sticker.png`;
const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

export function stickerImage(stickerId, { alt = gettext("Sticker"), size = 120 } = {}) {
  const img = h("img", { src: STICKER_URL(stickerId), alt, width: size, height: size, loading: "lazy" });
  img.addEventListener("error", () => img.replaceWith(h("span", { class: "sticker-fallback", text: alt })), { once: true });
  return img;
}

/** Text with links made clickable; line breaks and emoji are kept by CSS (pre-wrap). */
function richText(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer nofollow", text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}


function mediaSource(message) {
  const payload = message.payload || {};
  return message.media_url || shown(payload.originalContentUrl) || null;
}

const MEDIA_LABELS = {
  image: () => gettext("Image"),
  video: () => gettext("Video"),
  audio: () => gettext("Audio"),
  file: () => gettext("File"),
};

function mediaPlaceholder(message) {
  const label = (MEDIA_LABELS[message.type] || MEDIA_LABELS.file)();
  const state = message.media_status === "failed"
    ? gettext("could not be downloaded from LINE")
    : gettext("downloading…");
  return h("div", { class: "bubble media-placeholder", "data-testid": "media-placeholder" }, label + " · " + state);
}

function body(message, { onImage }) {
  const payload = message.payload || {};
  if (message.is_unsent) {
    return h("div", { class: "bubble unsent", "data-testid": "message-text", text: gettext("Message unsent") });
  }
  if (message.content_removed) {
    return h("div", { class: "bubble unsent", "data-testid": "message-text", text: gettext("Removed by the retention policy") });
  }
  switch (message.type) {
    case "text":
      return h("div", { class: "bubble", "data-testid": "message-text" }, richText(message.text || ""));
    case "sticker":
      return h("div", { class: "bubble bubble-sticker" }, stickerImage(payload.stickerId, {
        alt: interpolate(gettext("Sticker %(id)s"), { id: payload.stickerId || "" }),
      }));
    case "image": {
      const full = mediaSource(message) || message.local_url;
      const thumb = shown(payload.previewImageUrl) || message.local_url || full;
      if (!full) return mediaPlaceholder(message);
      const img = h("img", { class: "thumb", src: thumb, alt: gettext("Image"), loading: "lazy", "data-testid": "message-image" });
      img.addEventListener("click", () => onImage && onImage(full));
      return h("div", { class: "bubble bubble-media" }, img);
    }
    case "video": {
      const src = mediaSource(message);
      if (!src) return mediaPlaceholder(message);
      return h("div", { class: "bubble bubble-media" },
        h("video", { src, controls: true, preload: "metadata", poster: payload.previewImageUrl || null }));
    }
    case "audio": {
      const src = mediaSource(message);
      if (!src) return mediaPlaceholder(message);
      return h("div", { class: "bubble" }, h("audio", { src, controls: true, preload: "metadata" }));
    }
    case "file": {
      const name = payload.fileName || message.text || gettext("File");
      const info = [payload.fileSize ? fileSize(payload.fileSize) : ""].filter(Boolean).join(" · ");
      const content = h("span", {}, h("span", { text: name }), info ? h("small", { text: info }) : null);
      if (!message.media_url) return mediaPlaceholder(message);
      return h("div", { class: "bubble" },
        h("a", { class: "file-link", href: message.media_url, download: name }, h("span", { class: "file-icon" }, icon("file", 22)), content));
    }
    case "location": {
      const lat = payload.latitude;
      const lng = payload.longitude;
      const map = lat !== undefined && lng !== undefined
        ? h("a", { href: `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(`${lat},${lng}`)}`, target: "_blank", rel: "noopener noreferrer", text: gettext("Open map") })
        : null;
      return h("div", { class: "bubble location", "data-testid": "message-location" },
        h("span", { class: "card-title" }, icon("pin", 12), " " + gettext("Location")),
        h("strong", { text: payload.title || message.text || gettext("Shared location") }),
        payload.address ? h("span", { class: "address", text: payload.address }) : null,
        map);
    }
    case "flex":
    case "template":
      return h("div", { class: "bubble" },
        h("span", { class: "card-title", text: message.type === "flex" ? gettext("Card") : gettext("Template") }),
        payload.altText || message.text || "");
    case "postback":
      return h("div", { class: "bubble postback" }, icon("tap", 14), ` ${message.text || (payload && payload.data) || ""}`);
    default:
      return h("div", { class: "bubble muted", text: interpolate(gettext("Unsupported message (%(type)s)"), { type: payload.original_type || message.type }) });
  }
}

function deliveryState(message, { onRetry }) {
  if (message.direction !== "out" || message.sender_kind === "system") return null;
  if (message.status === "pending") return h("span", { class: "state-pending", "data-testid": "message-status", "data-state": "pending" }, icon("clock", 11), " " + gettext("Sending…"));
  if (message.status === "sent") {
    // How it went out: free with the customer's reply token, or a push that counts against LINE's quota.
    const path = message.sent_via === "reply" ? gettext("free reply") : message.sent_via === "push" ? gettext("push") : "";
    return h("span", { class: "state-sent", "data-testid": "message-status", "data-state": "sent", "data-via": message.sent_via || null },
      icon("check", 11), " " + gettext("Sent") + (path ? ` · ${path}` : ""));
  }
  if (message.status === "failed") {
    const retry = message.id && onRetry
      ? h("button", { type: "button", class: "button button-small", "data-testid": "retry-button", text: gettext("Retry") })
      : null;
    if (retry) retry.addEventListener("click", () => onRetry(message, retry));
    return h("span", {}, h("span", {
      class: "state-failed", "data-testid": "message-status", "data-state": "failed",
      title: message.error || "",
    }, icon("alert", 11), " " + gettext("Not delivered")), " ", retry);
  }
  return null;
}

/** "Reply to this": a customer's message LINE gave a quote token can be answered quoting it. */
function quoteButton(message, onQuote) {
  if (!onQuote || message.direction !== "in" || message.is_unsent || !(message.payload || {}).quoteToken) return null;
  const button = h("button", {
    type: "button", class: "link-button quote-button", "data-testid": "quote-button",
    title: gettext("Reply quoting this message"), text: gettext("Quote"),
  });
  button.addEventListener("click", () => onQuote(message));
  return button;
}

function senderName(message, me) {
  if (message.sender_kind === "bot") return gettext("Bot");
  if (message.sender_kind === "operator") {
    if (!message.operator || (me && message.operator.id === me.id)) return gettext("You");
    return message.operator.name;
  }
  if (message.sender_kind === "system") return "";
  return null;
}

/** The key of what the element shows: it is rebuilt only when this changes. */
export function signature(message, showWho) {
  return [message.id, message.status, message.sent_via, message.is_unsent, message.content_removed, message.media_url, message.media_status, message.error, showWho].join("|");
}

/** What a message quotes (LINE shows it above the answer), as a short line; null if nothing. */
function quoteBlock(message, quoted) {
  const payload = message.payload || {};
  if (!payload.quotedMessageId && !(message.direction === "out" && payload.quoteToken)) return null;
  const text = quoted ? (quoted.text || previewLabel(quoted)) : gettext("an earlier message");
  return h("span", { class: "quote", "data-testid": "message-quote" }, icon("reply", 11), " " + text.slice(0, 120));
}

function previewLabel(message) {
  return (MEDIA_LABELS[message.type] || (() => message.type))();
}

export function renderMessage(message, { me, showWho, onRetry, onImage, onQuote, quoted }) {
  const who = showWho ? senderName(message, me) : null;
  const element = h("li", {
    class: [
      "message",
      `from-${message.sender_kind}`,
      message.status === "pending" ? "is-pending" : "",
      message.status === "failed" ? "is-failed" : "",
    ].join(" "),
    "data-testid": "message",
    "data-seq": message.seq ?? null,
    "data-id": message.id ?? null,
    "data-client-id": message.client_id || null,
    "data-sender": message.sender_kind,
    "data-type": message.type,
    "data-status": message.status,
  },
  who ? h("span", { class: "who", text: who }) : null,
  quoteBlock(message, quoted),
  body(message, { onImage }),
  h("span", { class: "meta" },
    h("time", { datetime: message.created_at || "", text: timeOfDay(message.created_at) }),
    deliveryState(message, { onRetry }),
    quoteButton(message, onQuote)));
  return element;
}
