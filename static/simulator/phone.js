/*
 * LINE simulator — the phone page (/simulator/). Plays one or more LINE users against the app:
 * every action is POSTed to /simulator/phone/send, which turns it into a real signed webhook,
 * and everything LINE accepted for the user (replies, pushes) is polled from
 * /simulator/phone/inbox and drawn the way the LINE app would.
 *
 * SELECTOR CONTRACT — browser tests (the operator console's too) rely on these; keep them exact:
 *   [data-testid=composer-input]            the text input
 *   [data-testid=send-button]               sends the text (Enter in the input does too)
 *   [data-testid=bubble][data-from=user]    a message the customer sent (text is the text content)
 *   [data-testid=bubble][data-from=oa]      a message the app sent (reply or push), one per LINE
 *                                           message object; the text, Flex texts and button
 *                                           labels are its text content; time and delivery
 *                                           state are outside the bubble element
 *   [data-testid=quick-reply]               a quick reply chip of the latest OA message; a tap
 *                                           sends its action (message → text, postback →
 *                                           postback; its displayText is drawn as the
 *                                           customer's message but, as at LINE, never sent)
 *   [data-testid=follow] / [data-testid=unfollow]   send a follow / unfollow event
 *   [data-testid=send-sticker]              sends the default sticker (446/1988) at once
 *   [data-testid=sticker-picker]            opens the picker of [data-testid=sticker-option]s;
 *                                           a tap on an option sends that sticker
 *   [data-testid=send-image]                sends a generated PNG photo at once
 *   [data-testid=upload-image]              file input: sends the chosen photo
 *   [data-testid=send-location]             sends the selected Bangkok place (Siam Paragon first)
 *   [data-testid=user-tab][data-user-id=…]  one tab per open LINE user; aria-selected="true" on
 *                                           the active one
 *   [data-testid=user-name-input] + [data-testid=create-user]   create a user and open its tab;
 *                                           the new user adds the OA as a friend (a follow event)
 * A user can also be opened directly: /simulator/?user=<U + 32 hex>&name=<name>.
 * Bubbles carry data-state="sending" | "sent" | "failed" (user) and the page sets
 * body[data-ready] once its first poll has finished.
 */

import { shown } from "../shared/own_urls.js";

const data = JSON.parse(document.getElementById("phone-data").textContent);
const csrfToken = document.querySelector("meta[name=csrf-token]").content;
const S = data.strings;
const STORAGE_KEY = "lineSimulator.v1";
const POLL_MS = 700;
const MAX_OWN_ITEMS = 300;
const STICKER_URL = (id) => `https://stickershop.line-scdn.net/stickershop/v1/sticker/${id}/android/sticker.png`;

const $ = (id) => document.getElementById(id);
const chat = $("chat");
const baseTitle = document.title;

/* ---------- state ---------------------------------------------------------------------------- */

const state = {
  tabs: [], // [{userId, name, pictureUrl}]
  active: null, // userId
  items: new Map(), // userId → [{key, from: "user"|"oa"|"system", at, message?, text?, status?, error?}]
  seenCalls: new Set(),
  lastCall: 0,
  unread: new Map(),
  loadingUntil: new Map(),
  blocked: new Map(),
};
let itemSeq = 0;

function loadSaved() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    state.tabs = Array.isArray(saved.tabs) ? saved.tabs : [];
    state.active = saved.active || null;
    for (const [userId, own] of Object.entries(saved.own || {})) {
      state.items.set(userId, own.map((item) => ({ ...item, key: `own-${itemSeq++}` })));
    }
    for (const [userId, blocked] of Object.entries(saved.blocked || {})) state.blocked.set(userId, blocked);
  } catch {
    /* a damaged store is simply forgotten */
  }
}

function save() {
  const own = {};
  for (const tab of state.tabs) {
    own[tab.userId] = itemsOf(tab.userId)
      .filter((item) => item.from !== "oa" && item.status !== "sending")
      .slice(-MAX_OWN_ITEMS)
      .map(({ key, ...rest }) => rest);
  }
  localStorage.setItem(
    STORAGE_KEY,
    JSON.stringify({ tabs: state.tabs, active: state.active, own, blocked: Object.fromEntries(state.blocked) }),
  );
}

function itemsOf(userId) {
  if (!state.items.has(userId)) state.items.set(userId, []);
  return state.items.get(userId);
}

/* ---------- talking to the server ------------------------------------------------------------ */

async function post(url, fields, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append("file", file);
  const response = await fetch(url, {
    method: "POST",
    body: form,
    headers: { "X-CSRFToken": csrfToken },
    credentials: "same-origin",
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON: the status says enough */
  }
  return { ok: response.ok, status: response.status, body };
}

function showError(message) {
  const banner = $("page-error");
  banner.textContent = message;
  banner.hidden = !message;
}

/* ---------- users and tabs ------------------------------------------------------------------- */

function initials(name) {
  return (name || "?").trim().charAt(0).toUpperCase() || "?";
}

function avatar(user, extraClass = "") {
  const el = document.createElement("span");
  el.className = `avatar ${extraClass}`.trim();
  el.setAttribute("aria-hidden", "true");
  el.textContent = initials(user.name);
  if (user.pictureUrl) {
    const img = document.createElement("img");
    img.alt = "";
    img.src = user.pictureUrl;
    img.addEventListener("error", () => img.remove());
    el.append(img);
  }
  return el;
}

function openUser(user) {
  const existing = state.tabs.find((tab) => tab.userId === user.userId);
  if (existing) Object.assign(existing, user);
  else {
    state.tabs.push(user);
    loadHistory(user.userId);
  }
  activate(user.userId);
}

function closeTab(userId) {
  state.tabs = state.tabs.filter((tab) => tab.userId !== userId);
  if (state.active === userId) state.active = state.tabs.length ? state.tabs.at(-1).userId : null;
  save();
  renderTabs();
  renderChat();
}

function activate(userId) {
  state.active = userId;
  state.unread.delete(userId);
  save();
  renderTabs();
  renderChat();
  $("composer-input").focus();
}

function renderTabs() {
  const nav = $("tabs");
  nav.replaceChildren();
  for (const tab of state.tabs) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tab";
    button.setAttribute("role", "tab");
    button.dataset.testid = "user-tab";
    button.dataset.userId = tab.userId;
    button.setAttribute("aria-selected", String(tab.userId === state.active));
    const name = document.createElement("span");
    name.className = "tab-name";
    name.textContent = tab.name;
    button.append(avatar(tab), name);
    const unread = state.unread.get(tab.userId) || 0;
    if (unread) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(unread);
      button.append(badge);
    }
    button.addEventListener("click", () => activate(tab.userId));
    const close = document.createElement("button");
    close.type = "button";
    close.className = "tab-close";
    close.title = S.closeTab;
    close.setAttribute("aria-label", `${S.closeTab}: ${tab.name}`);
    close.textContent = "×";
    close.addEventListener("click", () => closeTab(tab.userId));
    const wrap = document.createElement("div");
    wrap.className = "tab-wrap";
    wrap.append(button, close);
    nav.append(wrap);
  }
  const user = activeUser();
  $("who-name").textContent = user ? user.name : "—";
  $("who-id").textContent = user ? user.userId : "";
  $("who-avatar").replaceWith(Object.assign(avatar(user || { name: "?" }, "avatar-lg"), { id: "who-avatar" }));
  $("raw-calls").href = user ? `/simulator/control/calls?user_id=${encodeURIComponent(user.userId)}` : "#";
  $("chat-subtitle").textContent = user ? user.name : "";
  const disabled = !user;
  for (const el of document.querySelectorAll("#composer button, #composer input, #follow, #unfollow, #upload-image")) {
    el.disabled = disabled;
  }
  $("blocked-note").hidden = !(user && state.blocked.get(user.userId));
  document.title = user ? `${user.name} · ${baseTitle}` : baseTitle;
}

function activeUser() {
  return state.tabs.find((tab) => tab.userId === state.active) || null;
}

function addKnownUser(user, first = false) {
  const option = document.createElement("option");
  option.value = user.userId;
  option.textContent = `${user.name} (…${user.userId.slice(-6)})`;
  const select = $("known-users");
  if (first) select.options[0].after(option);
  else select.append(option);
}

function fillKnownUsers() {
  const select = $("known-users");
  data.knownUsers.forEach((user) => addKnownUser(user));
  select.addEventListener("change", () => {
    const user = data.knownUsers.find((u) => u.userId === select.value);
    select.value = "";
    if (user) openUser({ ...user });
  });
}

$("new-user-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const result = await post(data.urls.users, {
    name: form.elements.name.value,
    picture_url: form.elements.picture_url.value,
  }).catch(() => ({ ok: false, body: { error: S.networkError } }));
  if (!result.ok) {
    showError(result.body.error || S.networkError);
    return;
  }
  showError("");
  form.reset();
  data.knownUsers.unshift(result.body);
  addKnownUser(result.body, true);
  openUser(result.body);
  if (result.body.follow) showFollow(result.body.userId, result.body.follow);
});

/** A new user added the OA as a friend: the note their chat starts with, and whether it arrived. */
function showFollow(userId, follow) {
  const sent = follow.webhook_status === 200;
  const item = {
    from: "system",
    text: S.followed.replace("{oa}", data.oaName),
    at: follow.at || new Date().toISOString(),
    status: sent ? "sent" : "failed",
    error: sent ? "" : S.sendFailed.replace("{status}", String(follow.webhook_status)),
    key: `own-${itemSeq++}`,
  };
  state.blocked.set(userId, false);
  addItem(userId, item);
  renderTabs();
  save();
}

/* ---------- sending -------------------------------------------------------------------------- */

/** What the customer's own phone shows for an event it sent. */
function ownItemFor(event) {
  if (event.type === "message") return { from: "user", message: event.message };
  if (event.type === "postback") return null; // LINE sends no displayText: keep what was drawn
  if (event.type === "follow") return { from: "system", text: S.followed.replace("{oa}", data.oaName) };
  if (event.type === "unfollow") return { from: "system", text: S.unfollowed.replace("{oa}", data.oaName) };
  return null;
}

/** A guess of the event, drawn at once while the webhook is on its way. */
function draftFor(fields) {
  switch (fields.kind) {
    case "text":
      return { from: "user", message: { type: "text", text: fields.text } };
    case "sticker":
      return { from: "user", message: { type: "sticker", packageId: fields.package_id, stickerId: fields.sticker_id } };
    case "image":
      return { from: "user", message: { type: "image" } };
    case "location":
      return { from: "user", message: { type: "location", title: data.places[Number(fields.place)] || "" } };
    case "postback":
      return fields.display_text
        ? { from: "user", message: { type: "text", text: fields.display_text } }
        : { from: "system", text: S.postbackSent.replace("{data}", fields.data) };
    case "follow":
      return { from: "system", text: S.followed.replace("{oa}", data.oaName) };
    case "unfollow":
      return { from: "system", text: S.unfollowed.replace("{oa}", data.oaName) };
    default:
      return null;
  }
}

/* Like the LINE app, one message at a time and in order: the app sees them as the customer sent
   them, and each bubble's server time follows the one before. */
let outbox = Promise.resolve();

function send(fields, file) {
  const user = activeUser();
  if (!user) return;
  const userId = user.userId;
  const item = { ...draftFor(fields), at: new Date().toISOString(), status: "sending", key: `own-${itemSeq++}` };
  addItem(userId, item);
  if (fields.kind === "follow") state.blocked.set(userId, false);
  if (fields.kind === "unfollow") state.blocked.set(userId, true);
  renderTabs();
  outbox = outbox.then(() => deliver(userId, item, fields, file));
}

async function deliver(userId, item, fields, file) {
  let result;
  try {
    result = await post(data.urls.send, { user_id: userId, ...fields }, file);
  } catch {
    result = { ok: false, status: 0, body: { error: S.networkError } };
  }
  const { event, webhook_status: webhookStatus, at } = result.body;
  Object.assign(item, (event && ownItemFor(event)) || {}, at ? { at } : {});
  item.status = result.ok ? "sent" : "failed";
  item.error = result.ok
    ? ""
    : webhookStatus !== undefined
      ? S.sendFailed.replace("{status}", String(webhookStatus))
      : result.body.error || S.networkError;
  replaceItem(userId, item);
  save();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("composer-input");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  send({ kind: "text", text });
});

$("send-sticker").addEventListener("click", () => send({ kind: "sticker", package_id: "446", sticker_id: "1988" }));
$("sticker-picker").addEventListener("click", () => toggleStickerTray());
$("send-image").addEventListener("click", () => send({ kind: "image" }));
$("send-location").addEventListener("click", () => send({ kind: "location", place: $("place").value || "0" }));
$("follow").addEventListener("click", () => send({ kind: "follow" }));
$("unfollow").addEventListener("click", () => send({ kind: "unfollow" }));
$("upload-image").addEventListener("change", (event) => {
  const file = event.currentTarget.files[0];
  event.currentTarget.value = "";
  if (file) send({ kind: "image" }, file);
});

function toggleStickerTray(open) {
  const tray = $("sticker-tray");
  tray.hidden = open === undefined ? !tray.hidden : !open;
  $("sticker-picker").setAttribute("aria-expanded", String(!tray.hidden));
}

function fillStickerTray() {
  const grid = $("sticker-grid");
  for (const sticker of data.stickers) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sticker-option";
    button.dataset.testid = "sticker-option";
    button.dataset.packageId = sticker.packageId;
    button.dataset.stickerId = sticker.stickerId;
    button.title = `${S.sticker} ${sticker.packageId}/${sticker.stickerId}`;
    button.append(stickerImage(sticker.stickerId, sticker.fallback));
    button.addEventListener("click", () => {
      toggleStickerTray(false);
      send({ kind: "sticker", package_id: sticker.packageId, sticker_id: sticker.stickerId });
    });
    grid.append(button);
  }
  for (const [index, title] of data.places.entries()) {
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = title;
    $("place").append(option);
  }
}

/* ---------- actions the app offers (quick replies, Flex and template buttons) ---------------- */

function todayParams(action) {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  if (action.mode === "date") return { date: action.initial || date };
  if (action.mode === "time") return { time: action.initial || time };
  return { datetime: action.initial || `${date}T${time}` };
}

function runAction(action) {
  if (!action) return;
  switch (action.type) {
    case "message":
      send({ kind: "text", text: action.text || action.label || "" });
      break;
    case "postback":
      send({ kind: "postback", data: action.data || "", display_text: action.displayText || action.text || "" });
      break;
    case "datetimepicker":
      send({ kind: "postback", data: action.data || "", params: JSON.stringify(todayParams(action)) });
      break;
    case "uri":
      if (/^(https?:|tel:|mailto:|line:)/i.test(action.uri || "")) window.open(action.uri, "_blank", "noopener");
      break;
    case "location":
      send({ kind: "location", place: $("place").value || "0" });
      break;
    case "camera":
    case "cameraRoll":
      send({ kind: "image" });
      break;
    case "clipboard":
      navigator.clipboard?.writeText(action.clipboardText || "");
      break;
    default:
      break;
  }
}

function actionLabel(action) {
  return (action && (action.label || action.text || action.displayText)) || "";
}

/* ---------- drawing messages ----------------------------------------------------------------- */

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/* The alt text shows until LINE's CDN delivers the picture (offline, it never does). */
function stickerImage(stickerId, fallback) {
  const wrap = el("span", "sticker");
  wrap.append(el("span", "sticker-fallback", `${fallback || "🙂"} ${S.sticker}`));
  const img = document.createElement("img");
  img.alt = `${fallback || ""} ${S.sticker}`.trim();
  img.addEventListener("load", () => wrap.replaceChildren(img));
  img.src = STICKER_URL(stickerId);
  return wrap;
}

/** Text with its links made clickable — built from nodes, never from HTML. */
function richText(text) {
  const fragment = document.createDocumentFragment();
  const parts = String(text).split(/(https?:\/\/[^\s<>"]+)/g);
  for (const [index, part] of parts.entries()) {
    if (index % 2) {
      const link = el("a", "", part);
      link.href = part;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      fragment.append(link);
    } else if (part) fragment.append(part);
  }
  return fragment;
}

function mapLink(message) {
  const link = el("a", "map-link", S.openMap);
  link.href = `https://www.google.com/maps?q=${message.latitude},${message.longitude}`;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

function imageFor(url, alt = "") {
  const img = document.createElement("img");
  img.alt = alt;
  if (url) img.src = url;
  img.addEventListener("error", () => img.classList.add("broken"));
  return img;
}

function actionButton(action, className) {
  const button = el("button", className, actionLabel(action));
  button.type = "button";
  button.addEventListener("click", () => runAction(action));
  return button;
}

/** The bubble's content for one LINE message object; `kind` is a class for its look. */

function messageBody(message, from) {
  switch (message.type) {
    case "text":
      return [richText(message.text || ""), "text"];
    case "sticker": {
      const known = data.stickers.find((sticker) => sticker.stickerId === String(message.stickerId));
      return [stickerImage(message.stickerId, known?.fallback), "sticker"];
    }
    case "image": {
      const url =
        from === "user"
          ? message.id && data.urls.content.replace("MESSAGE_ID", encodeURIComponent(message.id))
          : shown(message.previewImageUrl || message.originalContentUrl);
      const img = imageFor(url, S.image);
      if (!url) img.classList.add("placeholder");
      return [img, "image"];
    }
    case "video": {
      const box = el("div", "media-card");
      box.append(imageFor(message.previewImageUrl, S.video), el("span", "play", "▶"));
      return [box, "image"];
    }
    case "audio":
      return [el("span", "", `🎵 ${S.audio}`), "text"];
    case "location": {
      const card = el("div", "location-card");
      card.append(el("span", "pin", "📍"));
      const body = el("div", "location-body");
      body.append(el("strong", "", message.title || S.location));
      if (message.address) body.append(el("span", "address", message.address));
      if (message.latitude !== undefined) body.append(mapLink(message));
      card.append(body);
      return [card, "card"];
    }
    case "flex":
      return [renderFlex(message.contents || {}), "flex"];
    case "template":
      return [renderTemplate(message.template || {}, message.altText), "flex"];
    case "imagemap": {
      const box = el("div", "media-card");
      box.append(imageFor(message.baseUrl ? `${message.baseUrl}/700` : "", message.altText || ""));
      box.append(el("span", "caption", message.altText || ""));
      return [box, "image"];
    }
    default:
      return [el("span", "unsupported", S.unsupported.replace("{type}", message.type || "?")), "text"];
  }
}

function timeLabel(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function renderItem(item) {
  if (item.from === "system") {
    const row = el("div", "system-row");
    row.dataset.key = item.key;
    row.append(el("span", "system", item.text));
    if (item.status === "failed") row.append(el("span", "failed-note", item.error));
    return row;
  }
  const row = el("div", `row row-${item.from}`);
  row.dataset.key = item.key;
  const bubble = el("div", "bubble");
  bubble.dataset.testid = "bubble";
  bubble.dataset.from = item.from;
  bubble.dataset.type = item.message.type || "";
  if (item.status) bubble.dataset.state = item.status;
  const [content, kind] = messageBody(item.message, item.from);
  bubble.classList.add(`bubble-${kind}`);
  bubble.append(content);
  const meta = el("div", "meta");
  if (item.status === "sending") meta.append(el("span", "sending", "…"));
  if (item.status === "failed") {
    const failed = el("span", "failed-note", `! ${item.error}`);
    failed.setAttribute("role", "status");
    meta.append(failed);
  }
  meta.append(el("time", "", timeLabel(item.at)));
  if (item.from === "oa") {
    const face = el("span", "oa-avatar small", initials(data.oaName));
    face.setAttribute("aria-hidden", "true");
    row.append(face, bubble, meta);
  } else row.append(meta, bubble);
  return row;
}

function dayLabel(iso) {
  const date = new Date(iso);
  const today = new Date();
  if (date.toDateString() === today.toDateString()) return S.today;
  return date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
}

function nearBottom() {
  return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 120;
}

function scrollDown() {
  chat.scrollTop = chat.scrollHeight;
}

/** Rows for the whole transcript of the active user, in time order with day separators. */
function renderChat() {
  chat.replaceChildren();
  const user = activeUser();
  if (!user) {
    chat.append(el("p", "empty", S.noUsers));
    renderQuickReplies();
    return;
  }
  const items = itemsOf(user.userId);
  items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  let day = "";
  for (const item of items) {
    const label = dayLabel(item.at);
    if (label !== day) {
      chat.append(el("div", "day", label));
      day = label;
    }
    chat.append(renderItem(item));
  }
  chat.dataset.day = day;
  renderLoading();
  renderQuickReplies();
  scrollDown();
}

function addItem(userId, item) {
  itemsOf(userId).push(item);
  if (userId !== state.active) {
    if (item.from === "oa") state.unread.set(userId, (state.unread.get(userId) || 0) + 1);
    return;
  }
  const stick = nearBottom() || item.from !== "oa";
  chat.querySelector(".empty")?.remove();
  chat.querySelector(".typing")?.remove();
  const label = dayLabel(item.at);
  if (chat.dataset.day !== label) {
    chat.append(el("div", "day", label));
    chat.dataset.day = label;
  }
  chat.append(renderItem(item));
  renderLoading();
  renderQuickReplies();
  if (stick) scrollDown();
}

function replaceItem(userId, item) {
  if (userId !== state.active) return;
  const row = chat.querySelector(`[data-key="${item.key}"]`);
  if (row) row.replaceWith(renderItem(item));
  renderQuickReplies();
}

/* Quick replies belong to the latest message only, and go away once the customer answers. */
function renderQuickReplies() {
  const bar = $("quick-replies");
  bar.replaceChildren();
  const items = state.active ? itemsOf(state.active) : [];
  const last = items.at(-1);
  const chips = (last && last.from === "oa" && last.message.quickReply?.items) || [];
  for (const chip of chips) {
    const action = chip.action || {};
    const button = el("button", "chip");
    button.type = "button";
    button.dataset.testid = "quick-reply";
    button.dataset.actionType = action.type || "";
    if (chip.imageUrl) button.append(imageFor(chip.imageUrl));
    button.append(actionLabel(action));
    button.addEventListener("click", () => runAction(action));
    bar.append(button);
  }
  bar.hidden = chips.length === 0;
}

/* The loading animation the app may start (chat/loading/start) until its next message. */
function renderLoading() {
  chat.querySelector(".typing")?.remove();
  const until = state.loadingUntil.get(state.active) || 0;
  if (until <= Date.now()) return;
  const row = el("div", "row row-oa typing");
  row.setAttribute("aria-hidden", "true");
  const dots = el("div", "dots");
  dots.append(el("i"), el("i"), el("i"));
  row.append(el("span", "oa-avatar small", initials(data.oaName)), dots);
  chat.append(row);
  setTimeout(renderLoading, until - Date.now() + 50);
}

/* ---------- Flex and template messages ------------------------------------------------------- */

const FLEX_SIZES = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
const FLEX_SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const BUBBLE_WIDTHS = { nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 386 };

function px(value, table) {
  if (value === undefined || value === null || value === "") return "";
  if (table && value in table) return `${table[value]}px`;
  return /^\d+(\.\d+)?(px|%)$/.test(String(value)) ? String(value) : "";
}

function applyBoxStyle(node, component) {
  const s = node.style;
  if (component.flex !== undefined) s.flex = `${component.flex} 1 0`;
  if (component.margin) s.marginTop = px(component.margin, FLEX_SPACING);
  if (component.backgroundColor) s.backgroundColor = component.backgroundColor;
  if (component.cornerRadius) s.borderRadius = px(component.cornerRadius, FLEX_SPACING);
  if (component.borderWidth) s.border = `${px(component.borderWidth, { light: 1, normal: 1, medium: 2, "semi-bold": 3, bold: 4 }) || "1px"} solid ${component.borderColor || "#d0d0d0"}`;
  for (const side of ["All", "Top", "Bottom", "Start", "End"]) {
    const value = px(component[`padding${side}`], FLEX_SPACING);
    if (!value) continue;
    if (side === "All") s.padding = value;
    else s[`padding${side === "Start" ? "Left" : side === "End" ? "Right" : side}`] = value;
  }
  if (component.width) s.width = px(component.width);
  if (component.height) s.height = px(component.height);
  if (component.action) {
    node.classList.add("fx-clickable");
    node.addEventListener("click", (event) => {
      event.stopPropagation();
      runAction(component.action);
    });
  }
}

function renderComponent(component, parentLayout) {
  switch (component.type) {
    case "box": {
      const box = el("div", `fx-box fx-${component.layout || "vertical"}`);
      const gap = px(component.spacing, FLEX_SPACING);
      if (gap) box.style.gap = gap;
      if (component.justifyContent) box.style.justifyContent = component.justifyContent;
      if (component.alignItems) box.style.alignItems = component.alignItems;
      applyBoxStyle(box, component);
      for (const child of component.contents || []) box.append(renderComponent(child, component.layout || "vertical"));
      return box;
    }
    case "text": {
      const text = el("p", "fx-text");
      if (component.contents?.length) {
        for (const span of component.contents) {
          const part = el("span", "", span.text || "");
          if (span.color) part.style.color = span.color;
          if (span.weight === "bold") part.style.fontWeight = "700";
          if (span.size) part.style.fontSize = px(span.size, FLEX_SIZES);
          if (span.decoration && span.decoration !== "none") part.style.textDecoration = span.decoration;
          text.append(part);
        }
      } else text.textContent = component.text || "";
      if (component.size) text.style.fontSize = px(component.size, FLEX_SIZES);
      if (component.weight === "bold") text.style.fontWeight = "700";
      if (component.color) text.style.color = component.color;
      if (component.align) text.style.textAlign = component.align;
      if (component.decoration && component.decoration !== "none") text.style.textDecoration = component.decoration;
      if (!component.wrap) text.classList.add("fx-nowrap");
      if (component.maxLines) text.style.webkitLineClamp = String(component.maxLines);
      if (parentLayout !== "vertical" && component.flex === undefined) text.style.flex = "1 1 0";
      applyBoxStyle(text, { ...component, backgroundColor: undefined });
      return text;
    }
    case "button": {
      const style = component.style || "link";
      const button = actionButton(component.action, `fx-button fx-button-${style} fx-${component.height || "md"}`);
      if (component.color) {
        if (style === "link") button.style.color = component.color;
        else button.style.backgroundColor = component.color;
      }
      if (component.margin) button.style.marginTop = px(component.margin, FLEX_SPACING);
      if (component.flex !== undefined) button.style.flex = `${component.flex} 1 0`;
      return button;
    }
    case "image": {
      const img = imageFor(component.url, "");
      img.className = "fx-image";
      const ratio = String(component.aspectRatio || "1:1").split(":");
      if (ratio.length === 2) img.style.aspectRatio = `${ratio[0]} / ${ratio[1]}`;
      img.style.objectFit = component.aspectMode === "cover" ? "cover" : "contain";
      const size = component.size || "md";
      img.style.width = size === "full" ? "100%" : px(size, { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 220 });
      if (component.backgroundColor) img.style.backgroundColor = component.backgroundColor;
      if (component.margin) img.style.marginTop = px(component.margin, FLEX_SPACING);
      if (component.action) applyBoxStyle(img, { action: component.action });
      return img;
    }
    case "icon": {
      const img = imageFor(component.url, "");
      img.className = "fx-icon";
      img.style.width = px(component.size || "md", FLEX_SIZES);
      return img;
    }
    case "separator": {
      const hr = el("hr", "fx-separator");
      if (component.color) hr.style.borderColor = component.color;
      if (component.margin) hr.style.marginTop = px(component.margin, FLEX_SPACING);
      return hr;
    }
    case "filler":
      return el("div", "fx-filler");
    case "spacer": {
      const spacer = el("div", "fx-spacer");
      spacer.style.height = px(component.size || "md", FLEX_SPACING);
      return spacer;
    }
    case "video":
      return renderComponent(component.altContent || { type: "image", url: component.previewUrl, size: "full" });
    default:
      return el("span");
  }
}

function renderBubble(bubble) {
  const card = el("div", `fx-bubble fx-size-${bubble.size || "mega"}`);
  const width = BUBBLE_WIDTHS[bubble.size || "mega"];
  if (width) card.style.width = `${width}px`;
  const styles = bubble.styles || {};
  for (const part of ["header", "hero", "body", "footer"]) {
    const component = bubble[part];
    if (!component) continue;
    const section = el("div", `fx-section fx-${part}`);
    if (styles[part]?.backgroundColor) section.style.backgroundColor = styles[part].backgroundColor;
    if (part === "hero" && component.type === "image") {
      section.append(renderComponent({ size: "full", ...component }));
    } else section.append(renderComponent(component, "vertical"));
    card.append(section);
  }
  if (bubble.action) applyBoxStyle(card, { action: bubble.action });
  return card;
}

function renderFlex(contents) {
  if (contents.type === "carousel") {
    const carousel = el("div", "fx-carousel");
    for (const bubble of contents.contents || []) carousel.append(renderBubble(bubble));
    return carousel;
  }
  return renderBubble(contents);
}

function templateColumn(column, withImage) {
  const card = el("div", "tpl-card");
  if (withImage && (column.thumbnailImageUrl || column.imageUrl)) {
    const img = imageFor(column.thumbnailImageUrl || column.imageUrl, "");
    img.className = "tpl-image";
    card.append(img);
  }
  const body = el("div", "tpl-body");
  if (column.title) body.append(el("strong", "tpl-title", column.title));
  if (column.text) body.append(el("p", "tpl-text", column.text));
  card.append(body);
  const actions = el("div", "tpl-actions");
  for (const action of column.actions || (column.action ? [column.action] : [])) {
    actions.append(actionButton(action, "tpl-button"));
  }
  card.append(actions);
  if (column.defaultAction) applyBoxStyle(body, { action: column.defaultAction });
  return card;
}

function renderTemplate(template, altText) {
  switch (template.type) {
    case "buttons":
      return templateColumn(template, true);
    case "confirm": {
      const card = el("div", "tpl-card tpl-confirm");
      card.append(el("p", "tpl-text", template.text || ""));
      const actions = el("div", "tpl-actions tpl-row");
      for (const action of template.actions || []) actions.append(actionButton(action, "tpl-button"));
      card.append(actions);
      return card;
    }
    case "carousel":
    case "image_carousel": {
      const carousel = el("div", "fx-carousel");
      for (const column of template.columns || []) carousel.append(templateColumn(column, true));
      return carousel;
    }
    default:
      return el("span", "", altText || "");
  }
}

/* ---------- what the app sent: polling ------------------------------------------------------- */

function receive(call) {
  if (state.seenCalls.has(call.id) || !state.tabs.some((tab) => tab.userId === call.userId)) return;
  state.seenCalls.add(call.id);
  if (call.endpoint === "loading") {
    const until = Date.parse(call.at) + call.loadingSeconds * 1000;
    if (until > Date.now()) state.loadingUntil.set(call.userId, until);
    if (call.userId === state.active) renderLoading();
    return;
  }
  state.loadingUntil.delete(call.userId);
  for (const [index, message] of call.messages.entries()) {
    addItem(call.userId, { key: `call-${call.id}-${index}`, from: "oa", at: call.at, message, endpoint: call.endpoint });
  }
}

async function fetchInbox(since, userIds) {
  const params = new URLSearchParams({ since: String(since) });
  for (const userId of userIds) params.append("user_id", userId);
  const response = await fetch(`${data.urls.inbox}?${params}`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`inbox answered ${response.status}`);
  return response.json();
}

/** Everything the app ever sent this user (a tab opened later, or after a reload). */
async function loadHistory(userId) {
  let since = 0;
  for (;;) {
    const page = await fetchInbox(since, [userId]).catch(() => null);
    if (!page) return;
    page.items.forEach(receive);
    if (page.items.length < 200) break;
    since = page.last;
  }
  if (userId === state.active) renderChat();
  renderTabs();
}

async function poll() {
  let delay = POLL_MS;
  if (state.tabs.length) {
    try {
      const page = await fetchInbox(state.lastCall, state.tabs.map((tab) => tab.userId));
      page.items.forEach(receive);
      state.lastCall = Math.max(state.lastCall, page.last);
      if (page.items.length) renderTabs();
      if (page.items.length >= 200) delay = 0;
    } catch {
      delay = POLL_MS * 4; // the server is restarting or gone: try again, more slowly
    }
  }
  document.body.dataset.ready = "true";
  setTimeout(poll, delay);
}

/* ---------- start ---------------------------------------------------------------------------- */

async function start() {
  loadSaved();
  fillKnownUsers();
  fillStickerTray();
  if (data.initialUser && !state.tabs.some((tab) => tab.userId === data.initialUser.userId)) {
    state.tabs.push(data.initialUser);
  } else if (data.initialUser) {
    Object.assign(state.tabs.find((tab) => tab.userId === data.initialUser.userId), data.initialUser);
  }
  if (data.initialUser) state.active = data.initialUser.userId;
  if (!state.tabs.some((tab) => tab.userId === state.active)) state.active = state.tabs[0]?.userId || null;
  save();
  renderTabs();
  renderChat();
  $("clock").textContent = new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  // One pass over every open user's history, then only what is new.
  if (state.tabs.length) {
    const userIds = state.tabs.map((tab) => tab.userId);
    let since = 0;
    for (;;) {
      const page = await fetchInbox(since, userIds).catch(() => null);
      if (!page) break;
      page.items.forEach(receive);
      since = page.last;
      if (page.items.length < 200) break;
    }
    state.lastCall = since;
    state.unread.clear();
    renderChat();
    renderTabs();
  }
  poll();
}

start();
