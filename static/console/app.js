/*
 * The operator console (/console/): wires the socket, the list, the chat and the customer panel.
 *
 * Stable hooks for tests and tools — data-testid values used by the console:
 *   page          console-root, connection-badge [data-state=live|connecting|reconnecting|offline],
 *                 status-switch, sound-toggle, notify-button, language-form, language-th,
 *                 language-en, settings-link, me, logout, toasts [data-alert-count], toast, lightbox
 *   list          tab-queue, tab-mine, tab-open, tab-closed, tab-count-<tab>, search-input,
 *                 conversation-list, conversation-row [data-conversation-id, data-status],
 *                 row-name, row-preview, row-unread, row-claim, row-meta, row-position,
 *                 row-waiting, row-assignee, row-sla [data-level=warning|breach, data-kind],
 *                 list-empty, load-more, presence-list,
 *                 presence-item [data-operator-id, data-status]
 *   chat          chat-pane, chat-empty, chat, chat-header, chat-title,
 *                 chat-status [data-status], chat-assignee, typing-indicator, claim-button,
 *                 transfer-button, close-button, panel-toggle, unfollowed-banner,
 *                 message-scroller, history-edge, message-list, day-separator,
 *                 message [data-seq, data-id, data-client-id, data-sender, data-type, data-status],
 *                 message-text, message-image, message-location, message-status [data-state],
 *                 retry-button
 *   composer      composer, composer-input, send-button, sticker-button, sticker-picker,
 *                 sticker [data-package-id, data-sticker-id], image-button, image-input,
 *                 canned-picker, canned-item, composer-hint, composer-locked
 *   dialogs       close-dialog, close-reason-choice, close-reason, close-confirm,
 *                 transfer-dialog, transfer-target, transfer-note, transfer-confirm
 *   panel         customer-panel, customer-name, customer-status-message, customer-line-id,
 *                 customer-language, following-state [data-following], customer-since,
 *                 past-conversations, past-conversation, event-timeline,
 *                 timeline-event [data-kind], personal-data, export-data, erase-data,
 *                 erase-dialog, erase-confirm (supervisors only)
 *   annotations   label-filter, chat-labels, label-chip [data-label-id], labels-button,
 *                 label-picker, label-option, note-composer, note-input, note-add,
 *                 private-note [data-note-id], private-note-text, contact-details,
 *                 contact-notes, custom-fields, custom-field, custom-field-key,
 *                 custom-field-value, add-custom-field, remove-custom-field, contact-save
 */
import { Annotations } from "./annotations.js";
import { ApiError, getJSON, postForm, postJSON, withId, withQuery } from "./api.js";
import { Attention } from "./attention.js";
import { ChatView } from "./chat.js";
import { Connection } from "./connection.js";
import { byTestId, h, newClientId } from "./dom.js";
import { configure, previewText, slaLabel } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { ConversationList } from "./list.js";
import { Outbox } from "./outbox.js";
import { CustomerPanel } from "./panel.js";
import { Panes } from "./panes.js";
import { startUsageMeter } from "./usage.js";

const data = JSON.parse(document.getElementById("console-data").textContent);
configure(data.language, data.time_zone);
const { me, urls } = data;
const POLL_EVERY_MS = 5000;
const FATAL_SEND_ERRORS = new Set(["forbidden", "invalid_state", "invalid", "not_found", "too_large", "unknown_type"]);

const outbox = new Outbox(me.id);
const attention = new Attention(me.id, urls.sound);
const connection = new Connection(urls.socket, { heartbeatSeconds: data.heartbeat_seconds });
const list = new ConversationList({ me, urls, counts: data.counts, lists: data.lists });
const chat = new ChatView({ me, urls, outbox, canned: data.canned, stickers: data.stickers, historyPage: data.history_page, rules: data.rules });
const panel = new CustomerPanel({ me, urls });
const annotations = new Annotations({
  me, labels: data.labels, list, chat, panel, connection, attention,
  open: (id) => openConversation(id), showError: (title) => showError(title),
});
const panes = new Panes();
let ownStatus = "online";
let gapAsked = ""; // the last resync asked for ("conversation:seq"), so a hole is asked about once

function showError(title, error) {
  attention.toast(title, error && error.message ? error.message : "", { error: true });
}

// --- Connection badge and REST fallback -----------------------------------------------------------

const BADGE_LABELS = {
  live: gettext("Live"),
  connecting: gettext("Connecting"),
  reconnecting: gettext("Reconnecting"),
  offline: gettext("Offline"),
};

function renderBadge(state) {
  const badge = byTestId("connection-badge");
  badge.dataset.state = state;
  badge.className = `badge badge-${state}`;
  badge.textContent = BADGE_LABELS[state] || state;
  badge.title = state === "offline" ? gettext("No real-time connection: refreshing every few seconds and retrying.") : "";
}

let pollTimer = null;

function startPolling() {
  if (pollTimer) return;
  pollTimer = setInterval(poll, POLL_EVERY_MS);
  poll();
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

/** While the socket cannot connect: the same picture from the REST API, every few seconds. */
async function poll() {
  try {
    const queue = await getJSON(urls.queue);
    onQueue(queue.waiting);
    await list.refreshCounts();
    await list.load(list.tab);
    if (chat.id) {
      const id = chat.id;
      const detail = await getJSON(withId(urls.detail, id));
      onConversation(detail.conversation, []);
      const after = chat.syncedSeq ?? 0;
      const page = await getJSON(withQuery(withId(urls.messages, id), { after_seq: after, limit: 200 }));
      onConversation(null, page.messages);
    }
    flushOutbox();
    connection.reconnectNow(); // the server answers again: try the socket too
  } catch {
    // still unreachable; the badge says Offline and the outbox keeps what was typed
  }
}

// --- Sending: optimistic, queued until acknowledged, in order, at most once per connection ------------
//
// Everything the operator sends goes into the outbox first and leaves it only when the server has
// acknowledged it. One flush at a time walks the outbox in order: over the socket (frames are
// handled in order, so seq follows the order typed), or — while the socket cannot connect —
// over REST one request after another.

const inFlight = new Map(); // client_id → connection generation it went out on, or "rest"
let flushing = null;
let flushAgain = false;

function sendPayload(item) {
  const payload = { conversation_id: item.conversation_id, client_id: item.client_id };
  if (item.sticker) payload.sticker = item.sticker;
  else if (item.canned_id) payload.canned_id = item.canned_id;
  else payload.text = item.text;
  if (item.quote_message_id) payload.quote_message_id = item.quote_message_id;
  return payload;
}

function send(body) {
  if (!chat.id) return;
  const item = { client_id: newClientId(), conversation_id: chat.id, created_at: new Date().toISOString(), ...body };
  outbox.add(item);
  flushOutbox();
}

function flushOutbox() {
  if (flushing) {
    flushAgain = true;
    return;
  }
  flushing = (async () => {
    do {
      flushAgain = false;
      for (const item of outbox.all()) {
        if (connection.live) {
          if (inFlight.get(item.client_id) === connection.generation) continue;
          if (!connection.send("send_message", sendPayload(item), item.client_id)) break;
          inFlight.set(item.client_id, connection.generation);
        } else if (connection.state === "offline") {
          if (!(await restDeliver(item))) break; // unreachable: the rest waits, in order
        } else {
          break; // reconnecting: the "live" event flushes
        }
      }
    } while (flushAgain);
  })().finally(() => {
    flushing = null;
  });
}

/** One message over REST; true when the server answered (accepted or refused it for good). */
async function restDeliver(item) {
  inFlight.set(item.client_id, "rest");
  try {
    const answer = await postJSON(withId(urls.send, item.conversation_id), sendPayload(item));
    acknowledge(item.client_id, answer.message);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.isRefusal) {
      reject(item, error);
      return true;
    }
    return false;
  } finally {
    if (inFlight.get(item.client_id) === "rest") inFlight.delete(item.client_id);
  }
}

function acknowledge(clientId, message = null) {
  inFlight.delete(clientId);
  outbox.remove(clientId);
  if (message) onConversation(null, [message]);
}

function reject(item, error) {
  inFlight.delete(item.client_id);
  outbox.remove(item.client_id);
  showError(gettext("Message not sent"), error);
  const input = byTestId("composer-input");
  if (item.text && chat.id === item.conversation_id && !input.value) input.value = item.text;
}

outbox.addEventListener("change", () => chat.render());

async function upload(file) {
  const id = chat.id;
  if (!id) return;
  if (!["image/jpeg", "image/png"].includes(file.type)) {
    attention.toast(gettext("Only JPEG and PNG images can be sent on LINE."), "", { error: true });
    return;
  }
  if (file.size > 10 * 1024 * 1024) {
    attention.toast(gettext("The image is larger than LINE's 10 MB limit."), "", { error: true });
    return;
  }
  const clientId = newClientId();
  const localUrl = URL.createObjectURL(file);
  chat.addUpload({
    client_id: clientId, conversation_id: id, direction: "out", sender_kind: "operator",
    operator: { id: me.id, name: me.name }, type: "image", text: "", payload: {}, local_url: localUrl,
    status: "pending", created_at: new Date().toISOString(),
  });
  try {
    const form = new FormData();
    form.append("image", file);
    const preview = await makePreview(file);
    if (preview) form.append("preview", preview, "preview.jpg");
    form.append("client_id", clientId);
    const answer = await postForm(withId(urls.send_image, id), form);
    acknowledge(clientId, answer.message);
  } catch (error) {
    chat.removeUpload(clientId);
    showError(gettext("Image not sent"), error);
  }
}

/** A small JPEG for LINE's previewImageUrl (≤ 1 MB), made in the browser. */
async function makePreview(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 480 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
  } catch {
    return null;
  }
}

// --- Actions: claim, close, transfer (socket, or REST when it is down) -------------------------------

async function act(frameType, restUrl, payload = {}) {
  const id = chat.id;
  if (!id) return;
  if (connection.send(frameType, { conversation_id: id, ...payload }, `act-${newClientId()}`)) return;
  try {
    const conversation = await postJSON(withId(restUrl, id), payload);
    onSession(conversation);
  } catch (error) {
    showError(gettext("That did not work"), error);
  }
}

async function retry({ message, button }) {
  button.disabled = true;
  try {
    const answer = await postJSON(withId(urls.retry, message.id));
    onConversation(null, [answer.message]);
  } catch (error) {
    button.disabled = false;
    showError(gettext("Could not retry"), error);
  }
}

// --- Opening a conversation --------------------------------------------------------------------------

async function openConversation(id, { detail = null } = {}) {
  if (chat.id && chat.id !== id) connection.send("leave_room", { conversation_id: chat.id });
  list.select(id);
  document.body.classList.remove("panel-open");
  if (detail) chat.show(detail.conversation, detail.messages);
  else if (list.rows.get(id)) chat.show(list.rows.get(id));
  annotations.refreshChat();
  panel.load(id);
  panes.show("chat");
  history.replaceState(history.state, "", withQuery(location.pathname, { c: id }));
  // Switching the language comes back to this conversation.
  document.querySelector('[data-testid="language-form"] input[name="next"]').value = location.pathname + location.search;
  if (connection.send("join_room", { conversation_id: id })) return;
  if (detail) return;
  try {
    const fresh = await getJSON(withId(urls.detail, id));
    if (list.selectedId === id) chat.show(fresh.conversation, fresh.messages);
  } catch (error) {
    showError(gettext("Could not open the conversation"), error);
  }
}

// --- Frames from the server -----------------------------------------------------------------------

function onConversation(conversation, messages = []) {
  const result = list.upsert(conversation, messages);
  if (conversation) chat.applyConversation(conversation);
  if (conversation && conversation.id === chat.id) annotations.refreshChat();
  if (messages.length) {
    chat.addMessages(messages);
    for (const message of messages) {
      if (message.client_id && outbox.has(message.client_id)) acknowledge(message.client_id);
    }
    fillGap();
  }
  if (result && result.inbound.length) alertForMessages(result.row, result.inbound);
  if (conversation && conversation.id === chat.id && result && result.statusChanged) panel.refreshSoon(conversation.id);
}

/** A message arrived past a hole in the history (a frame was lost): fetch what is missing. */
function fillGap() {
  const synced = chat.syncedSeq;
  if (!chat.id || synced === null || chat.newestSeq <= synced || !connection.live) return;
  const key = `${chat.id}:${synced}`;
  if (key === gapAsked) return;
  gapAsked = key;
  connection.send("sync", { conversation_id: chat.id, after_seq: synced });
}

/** The customer's name, or what they wrote while LINE's profile is still on its way. */
function customerLabel(row) {
  const contact = row.contact || {};
  if (contact.display_name && contact.display_name !== contact.line_user_id) return contact.display_name;
  return previewText(row.last_message, me) || contact.display_name || "";
}

function alertForMessages(row, inbound) {
  const mine = row.status === "active" && row.assigned_operator && row.assigned_operator.id === me.id;
  if (!mine) return;
  const last = inbound[inbound.length - 1];
  attention.alert({
    title: interpolate(gettext("New message from %(name)s"), { name: customerLabel(row) }),
    body: previewText(last, me),
    tag: `conversation-${row.id}`,
    onClick: () => openConversation(row.id),
    toastWhenVisible: chat.id !== row.id,
  });
}

function onQueue(waiting) {
  for (const row of list.applyQueue(waiting)) {
    attention.alert({
      title: gettext("New customer waiting"),
      body: customerLabel(row),
      tag: `queue-${row.id}`,
      onClick: () => openConversation(row.id),
    });
  }
}

function onSession(conversation) {
  list.upsert(conversation);
  chat.applyConversation(conversation);
  annotations.refreshChat();
  panel.refreshSoon(conversation.id);
}

function onFrame({ type, payload = {} }) {
  switch (type) {
    case "presence_update": renderPresence(payload.operators || []); break;
    case "queue_update": onQueue(payload.waiting || []); break;
    case "conversation_update": onConversation(payload.conversation, payload.messages || []); break;
    case "new_message": onConversation(null, [payload.message]); break;
    case "message_sent": acknowledge(payload.client_id, payload.message); break;
    case "message_status": if (payload.conversation_id === chat.id || !payload.conversation_id) chat.updateStatus(payload); break;
    case "typing": chat.showTyping(payload); break;
    case "session_claimed":
      onSession(payload.conversation);
      if (payload.operator && payload.operator.id !== me.id && payload.conversation.id === chat.id) {
        attention.toast(interpolate(gettext("%(name)s claimed this conversation"), { name: payload.operator.name }));
      }
      if (!payload.operator && payload.conversation.assigned_operator?.id === me.id) {  // auto-assignment
        const id = payload.conversation.id;
        attention.alert({
          title: gettext("A conversation was assigned to you"),
          body: payload.conversation.contact.display_name,
          onClick: () => openConversation(id),
        });
      }
      break;
    case "session_transferred":
      onSession(payload.conversation);
      if (payload.to_operator && payload.to_operator.id === me.id && (!payload.by || payload.by.id !== me.id)) {
        const id = payload.conversation.id;
        attention.alert({
          title: interpolate(gettext("%(name)s transferred a conversation to you"), { name: payload.by ? payload.by.name : "" }),
          body: [payload.conversation.contact.display_name, payload.note].filter(Boolean).join(" — "),
          onClick: () => openConversation(id),
        });
      }
      break;
    case "session_closed": onSession(payload.conversation); break;
    case "sla_alert":  // a response or resolution target is about to be missed, or was (livechat/conversations/sla.py)
      list.applySlaAlert(payload);
      attention.alert({
        title: payload.level === "breach" ? gettext("SLA missed") : gettext("Response time alert"),
        body: [payload.conversation ? customerLabel(payload.conversation) : "", slaLabel(payload)].filter(Boolean).join(" — "),
        tag: `sla-${payload.conversation_id}-${payload.kind}-${payload.level}`,
        onClick: () => openConversation(payload.conversation_id),
      });
      break;
    case "line_status":  // LINE's outage: messages wait in order (livechat/delivery/circuit.py)
      if (payload.state === "quota_exhausted") {  // the month's pushes are used up (delivery/sender.py)
        document.querySelector('[data-testid="quota-banner"]').hidden = false;
        break;
      }
      document.querySelector('[data-testid="line-down-banner"]').hidden = payload.state !== "open";
      break;
    case "error": onError(payload); break;
    default: annotations.onFrame(type, payload); break;
  }
}

function onError(payload) {
  const item = payload.request_id && outbox.all().find((i) => i.client_id === payload.request_id);
  if (item) {
    inFlight.delete(item.client_id);
    if (FATAL_SEND_ERRORS.has(payload.code)) reject(item, payload);
    else setTimeout(flushOutbox, payload.code === "rate_limited" ? 1500 : 3000);
    return;
  }
  if (payload.code === "unauthenticated") return;
  attention.toast(gettext("The server refused"), payload.message || payload.code, { error: true });
}

function renderPresence(operators) {
  chat.setOperators(operators);
  const items = operators.map((op) => h("li", { "data-testid": "presence-item", "data-operator-id": op.id, "data-status": op.status },
    h("span", { class: `dot ${op.status}` }),
    h("span", { text: op.id === me.id ? interpolate(gettext("%(name)s (you)"), { name: op.name }) : op.name }),
    h("span", { class: "role", text: op.status === "away" ? gettext("Away") : gettext("Online") })));
  byTestId("presence-list").replaceChildren(...items);
  const self = operators.find((op) => op.id === me.id);
  if (self) setOwnStatus(self.status, false);
}

function setOwnStatus(status, announce) {
  ownStatus = status;
  byTestId("status-switch").value = status;
  document.querySelector('[data-role="own-status-dot"]').className = `status-dot ${status}`;
  if (announce && !connection.send("set_status", { status })) {
    attention.toast(gettext("You are offline: your status will be sent when the connection is back."));
  }
}

// --- Wiring -----------------------------------------------------------------------------------------

connection.addEventListener("state", (event) => {
  renderBadge(event.detail);
  if (event.detail === "offline") startPolling();
});
connection.addEventListener("frame", (event) => onFrame(event.detail));
connection.addEventListener("live", (event) => {
  stopPolling();
  if (ownStatus === "away") connection.send("set_status", { status: "away" });
  if (chat.id) {
    connection.send("join_room", { conversation_id: chat.id });
    const after = chat.syncedSeq;
    if (after !== null) {
      gapAsked = `${chat.id}:${after}`;
      connection.send("sync", { conversation_id: chat.id, after_seq: after });
    }
  }
  flushOutbox();
  if (event.detail.reconnect) {
    list.refreshCounts();
    list.load(list.tab);
    if (chat.id) panel.refreshSoon(chat.id);
  }
});
connection.addEventListener("unauthenticated", () => {
  location.assign(withQuery(urls.login, { next: location.pathname + location.search }));
});

list.addEventListener("select", (event) => openConversation(event.detail));
list.addEventListener("claim", (event) => {
  openConversation(event.detail); // shows it at once, so the claim below is for this conversation
  act("claim_session", urls.claim);
});
list.addEventListener("unread", (event) => attention.setUnread(event.detail));
list.addEventListener("error", (event) => showError(gettext("Could not load conversations"), event.detail));
panel.addEventListener("open", (event) => openConversation(event.detail));
panel.addEventListener("erased", async () => {
  attention.toast(gettext("The customer's data was erased."), "");
  if (!chat.id) return;
  try { // the open chat still shows what they said: show it emptied
    const fresh = await getJSON(withId(urls.detail, chat.id));
    onConversation(fresh.conversation, fresh.messages);
  } catch {
    // offline: reopening the conversation loads it
  }
});
panel.addEventListener("erase-failed", (event) => showError(gettext("Could not erase the customer's data"), event.detail));
chat.addEventListener("send", (event) => send(event.detail));
chat.addEventListener("upload", (event) => upload(event.detail.file));
chat.addEventListener("claim", () => act("claim_session", urls.claim));
chat.addEventListener("close", (event) => act("close_session", urls.close, event.detail));
chat.addEventListener("transfer", (event) => act("transfer_session", urls.transfer, event.detail));
chat.addEventListener("retry", (event) => retry(event.detail));
chat.addEventListener("typing", (event) => {
  if (chat.id) connection.send(event.detail.isTyping ? "typing_start" : "typing_stop", { conversation_id: chat.id });
});
chat.addEventListener("read", (event) => {
  list.markRead(event.detail.conversationId);
  connection.send("mark_read", { conversation_id: event.detail.conversationId, seq: event.detail.seq });
});
chat.addEventListener("image", (event) => {
  const lightbox = byTestId("lightbox");
  lightbox.querySelector('[data-role="lightbox-image"]').src = event.detail.url;
  lightbox.showModal();
});
byTestId("lightbox").addEventListener("click", (event) => {
  if (event.target === event.currentTarget) event.currentTarget.close();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") chat.markRead();
});

byTestId("status-switch").addEventListener("change", (event) => setOwnStatus(event.target.value, true));
const soundToggle = byTestId("sound-toggle");
soundToggle.setAttribute("aria-pressed", String(attention.soundOn));
soundToggle.addEventListener("click", () => {
  attention.setSound(!attention.soundOn);
  soundToggle.setAttribute("aria-pressed", String(attention.soundOn));
});
const notifyButton = byTestId("notify-button");
notifyButton.hidden = !("Notification" in window) || Notification.permission !== "default";
notifyButton.addEventListener("click", async () => {
  await Notification.requestPermission();
  notifyButton.hidden = Notification.permission !== "default";
});
byTestId("panel-toggle").addEventListener("click", () => document.body.classList.toggle("panel-open"));

// --- Start ------------------------------------------------------------------------------------------

renderBadge("connecting");
list.tab = data.counts.queue > 0 || data.counts.mine === 0 ? "queue" : "mine";
list.render();
if (data.selected) openConversation(data.selected.conversation.id, { detail: data.selected });
connection.start();
if (me.is_supervisor) startUsageMeter(urls.line_usage);
