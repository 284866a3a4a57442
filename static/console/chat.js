// The chat pane: header and actions, the history (infinite scroll upwards by seq), pending
// bubbles of unacknowledged sends, the composer with its sticker, image and canned pickers.
//
// Events out (the app acts on them): "send" {text|sticker|canned_id}, "upload" {file}, "claim",
// "close" {reason}, "transfer" {to_operator_id|to_queue, note}, "retry" {message, button},
// "typing" {isTyping}, "read" {conversationId, seq}, "image" {url}.
import { getJSON, withId, withQuery } from "./api.js";
import { byTestId, h, reconcile } from "./dom.js";
import { avatar, dayKey, dayLabel, statusLabel } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { renderMessage, signature, stickerImage } from "./messages.js";
import { interleaveNotes, noteSignature, renderNote } from "./notes.js";

const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;

/**
 * What the operator may do, by the server's rules (livechat.conversations.permissions.RULES,
 * sent with the page as data): {action: {statuses, in_charge_when, following}}.
 */
export function capabilitiesFor(conversation, me, rules) {
  const holds = Boolean(conversation.assigned_operator && conversation.assigned_operator.id === me.id);
  const inCharge = holds || me.is_supervisor;
  const can = {};
  for (const [action, rule] of Object.entries(rules)) {
    can[`can_${action}`] =
      rule.statuses.includes(conversation.status) &&
      (!rule.in_charge_when.includes(conversation.status) || inCharge) &&
      (!rule.following || conversation.contact.is_following);
  }
  return can;
}

export class ChatView extends EventTarget {
  constructor({ me, urls, outbox, canned, stickers, historyPage, rules }) {
    super();
    this.me = me;
    this.urls = urls;
    this.outbox = outbox;
    this.canned = canned;
    this.stickers = stickers;
    this.historyPage = historyPage;
    this.rules = rules;
    this.conversation = null;
    this.messages = new Map(); // seq → message
    this.notes = new Map(); // id → private note (staff only), shown among the messages by time
    this.uploads = new Map(); // client_id → image being uploaded (not kept across reloads)
    this.cache = new Map(); // render key → {signature, element}
    this.loadingOlder = false;
    this.stickToBottom = true;
    this.typingShown = new Map();
    this.typingSentAt = 0;
    this.cannedIndex = 0;
    this.operators = [];
    this.el = {
      chat: byTestId("chat"),
      empty: byTestId("chat-empty"),
      title: byTestId("chat-title"),
      avatar: document.querySelector('[data-role="chat-avatar"]'),
      status: byTestId("chat-status"),
      assignee: byTestId("chat-assignee"),
      typing: byTestId("typing-indicator"),
      claim: byTestId("claim-button"),
      transfer: byTestId("transfer-button"),
      close: byTestId("close-button"),
      banner: byTestId("unfollowed-banner"),
      scroller: byTestId("message-scroller"),
      edge: byTestId("history-edge"),
      list: byTestId("message-list"),
      composer: byTestId("composer"),
      input: byTestId("composer-input"),
      hint: byTestId("composer-hint"),
      locked: byTestId("composer-locked"),
      stickerButton: byTestId("sticker-button"),
      stickerPicker: byTestId("sticker-picker"),
      imageButton: byTestId("image-button"),
      imageInput: byTestId("image-input"),
      cannedPicker: byTestId("canned-picker"),
      closeDialog: byTestId("close-dialog"),
      transferDialog: byTestId("transfer-dialog"),
    };
    this.bind();
  }

  get id() {
    return this.conversation ? this.conversation.id : null;
  }

  // --- Opening a conversation -------------------------------------------------------------------

  /** Show a conversation; `detail` is {conversation, messages} when already at hand. */
  show(conversation, messages = []) {
    const switching = this.id !== conversation.id;
    if (switching) {
      this.messages.clear();
      this.notes.clear();
      this.cache.clear();
      this.typingShown.clear();
      this.stickToBottom = true;
      this.el.input.value = "";
      this.hidePickers();
      this.endQuote();
      this.forgetCanned(); // its preview was for the other conversation
    }
    this.conversation = conversation;
    this.el.empty.hidden = true;
    this.el.chat.hidden = false;
    this.updateHeader();
    this.addMessages(messages);
    if (switching && !messages.length) this.render();
  }

  applyConversation(conversation) {
    if (!conversation || conversation.id !== this.id) return;
    this.conversation = { ...this.conversation, ...conversation };
    this.updateHeader();
  }

  // --- Messages -------------------------------------------------------------------------------

  addMessages(messages, { older = false } = {}) {
    let changed = false;
    for (const message of messages) {
      if (!this.conversation || message.conversation_id !== this.id || typeof message.seq !== "number") continue;
      const known = this.messages.get(message.seq);
      this.messages.set(message.seq, known ? { ...known, ...message } : message);
      if (message.client_id) this.uploads.delete(message.client_id);
      changed = true;
    }
    if (changed) {
      this.render({ keepOffset: older });
      if (!older) this.markRead();
    }
  }

  /** Private notes of the conversation (the panel's load, a note_added frame). */
  setNotes(conversationId, notes) {
    if (conversationId !== this.id || !notes.length) return;
    for (const note of notes) this.notes.set(note.id, note);
    this.render();
  }

  updateStatus({ message_id: messageId, status, error, sent_via: sentVia }) {
    for (const message of this.messages.values()) {
      if (message.id === messageId) {
        message.status = status;
        message.error = error || "";
        if (sentVia) message.sent_via = sentVia;
        this.render();
        return;
      }
    }
  }

  /** The highest seq up to which nothing is missing (where a resync starts). */
  get syncedSeq() {
    const seqs = [...this.messages.keys()].sort((a, b) => a - b);
    if (!seqs.length) return null;
    let last = seqs[0];
    for (const seq of seqs.slice(1)) {
      if (seq !== last + 1) break;
      last = seq;
    }
    return last;
  }

  get newestSeq() {
    let newest = 0;
    for (const seq of this.messages.keys()) newest = Math.max(newest, seq);
    return newest;
  }

  get oldestSeq() {
    let oldest = Infinity;
    for (const seq of this.messages.keys()) oldest = Math.min(oldest, seq);
    return oldest === Infinity ? null : oldest;
  }

  async loadOlder() {
    const oldest = this.oldestSeq;
    if (this.loadingOlder || !this.conversation || oldest === null || oldest <= 1) return;
    const id = this.id;
    this.loadingOlder = true;
    this.renderEdge();
    try {
      const url = withQuery(withId(this.urls.messages, id), { before_seq: oldest, limit: this.historyPage });
      const data = await getJSON(url);
      if (id === this.id) this.addMessages(data.messages, { older: true });
    } catch {
      // offline: scrolling up again will retry
    } finally {
      this.loadingOlder = false;
      this.renderEdge();
    }
  }

  addUpload(upload) {
    this.uploads.set(upload.client_id, upload);
    this.stickToBottom = true;
    this.render();
  }

  removeUpload(clientId) {
    this.uploads.delete(clientId);
    this.render();
  }

  markRead() {
    if (!this.conversation || document.visibilityState !== "visible") return;
    const seq = this.newestSeq;
    if (seq > (this.readSeq || 0) || this.readFor !== this.id) {
      this.readSeq = seq;
      this.readFor = this.id;
      this.dispatchEvent(new CustomEvent("read", { detail: { conversationId: this.id, seq } }));
    }
  }

  // --- Rendering --------------------------------------------------------------------------------

  pendingMessages(ackedClientIds) {
    if (!this.conversation) return [];
    const queued = this.outbox.forConversation(this.id).map((item) => ({
      client_id: item.client_id,
      conversation_id: item.conversation_id,
      direction: "out",
      sender_kind: "operator",
      operator: { id: this.me.id, name: this.me.name },
      type: item.sticker ? "sticker" : "text",
      text: item.text || "",
      payload: item.sticker ? { packageId: item.sticker.package_id, stickerId: item.sticker.sticker_id } : {},
      status: item.rejected ? "failed" : "pending",
      error: item.rejected || "",
      created_at: item.created_at,
    }));
    return [...queued, ...this.uploads.values()]
      .filter((m) => !ackedClientIds.has(m.client_id))
      .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
  }

  render({ keepOffset = false } = {}) {
    const scroller = this.el.scroller;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const previousHeight = scroller.scrollHeight;
    const previousTop = scroller.scrollTop;
    const sorted = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    const acked = new Set(sorted.map((m) => m.client_id).filter(Boolean));
    const nodes = [];
    const used = new Set();
    let day = null;
    let previousSender = null;
    for (const message of interleaveNotes([...sorted, ...this.pendingMessages(acked)], this.notes.values())) {
      const messageDay = dayKey(message.created_at || new Date().toISOString());
      if (messageDay !== day) {
        day = messageDay;
        previousSender = null;
        const key = `d${day}`;
        if (!this.cache.has(key)) {
          this.cache.set(key, { signature: "", element: h("li", { class: "day-separator", "data-testid": "day-separator", text: dayLabel(day) }) });
        }
        nodes.push(this.cache.get(key).element);
        used.add(key);
      }
      if (message.isNote) {
        const key = `n${message.id}`;
        if (this.cache.get(key)?.signature !== noteSignature(message)) {
          this.cache.set(key, { signature: noteSignature(message), element: renderNote(message, this.me) });
        }
        nodes.push(this.cache.get(key).element);
        used.add(key);
        previousSender = null;
        continue;
      }
      const sender = `${message.sender_kind}:${message.operator ? message.operator.id : ""}`;
      const showWho = sender !== previousSender && message.sender_kind !== "customer";
      previousSender = sender;
      const key = typeof message.seq === "number" ? `s${message.seq}` : `p${message.client_id}`;
      const quoted = this.quotedBy(message);
      const sig = signature(message, showWho) + (quoted ? `|q${quoted.id}` : "");
      let cached = this.cache.get(key);
      if (!cached || cached.signature !== sig) {
        cached = {
          signature: sig,
          element: renderMessage(message, {
            me: this.me,
            showWho,
            quoted: this.quotedBy(message),
            onQuote: (m) => this.startQuote(m),
            onRetry: (m, button) => this.dispatchEvent(new CustomEvent("retry", { detail: { message: m, button } })),
            onImage: (url) => this.dispatchEvent(new CustomEvent("image", { detail: { url } })),
          }),
        };
        this.cache.set(key, cached);
      }
      nodes.push(cached.element);
      used.add(key);
    }
    for (const key of [...this.cache.keys()]) if (!used.has(key)) this.cache.delete(key);
    reconcile(this.el.list, nodes);
    this.renderEdge();
    if (keepOffset) {
      scroller.scrollTop = previousTop + (scroller.scrollHeight - previousHeight);
    } else if (atBottom || this.stickToBottom) {
      scroller.scrollTop = scroller.scrollHeight;
      if (sorted.length) this.stickToBottom = false;
    }
    // Too little history to scroll: fetch more right away so the operator can scroll at all.
    if (this.oldestSeq > 1 && scroller.scrollHeight <= scroller.clientHeight + 10) this.loadOlder();
  }

  renderEdge() {
    const oldest = this.oldestSeq;
    let text = "";
    if (this.loadingOlder) text = gettext("Loading earlier messages…");
    else if (oldest === 1) text = gettext("Beginning of the conversation");
    else if (oldest === null && this.conversation) {
      text = this.conversation.last_seq > 0 ? gettext("Loading messages…") : gettext("No messages yet.");
    }
    this.el.edge.textContent = text;
  }

  updateHeader() {
    const c = this.conversation;
    if (!c) return;
    const can = capabilitiesFor(c, this.me, this.rules);
    this.el.title.textContent = c.contact.display_name;
    const picture = avatar(c.contact, 36, "chat-avatar");
    this.el.avatar.replaceWith(picture);
    this.el.avatar = picture;
    this.el.status.textContent = statusLabel(c.status);
    this.el.status.className = `chip chip-${c.status}`;
    this.el.status.dataset.status = c.status;
    const holder = c.assigned_operator;
    this.el.assignee.textContent = holder
      ? interpolate(gettext("Handled by %(name)s"), { name: holder.id === this.me.id ? gettext("you") : holder.name })
      : "";
    this.el.claim.hidden = !can.can_claim;
    this.el.transfer.hidden = !can.can_transfer;
    this.el.close.hidden = !can.can_close;
    this.el.banner.hidden = c.contact.is_following !== false;
    this.el.composer.hidden = !can.can_send;
    this.el.locked.hidden = can.can_send;
    this.el.locked.textContent = this.lockedReason(c, can);
    if (!can.can_send) this.hidePickers();
    this.renderTyping();
  }

  lockedReason(c, can) {
    if (can.can_send) return "";
    if (c.status === "closed") return gettext("This conversation is closed.");
    if (c.contact.is_following === false) return gettext("The customer unfollowed the account: messages cannot be sent.");
    if (c.status === "waiting" || c.status === "bot") return gettext("Claim this conversation to reply.");
    if (c.assigned_operator) return interpolate(gettext("%(name)s is handling this conversation; only they can reply."), { name: c.assigned_operator.name });
    return gettext("You cannot reply in this conversation.");
  }

  showTyping({ conversation_id: conversationId, operator, is_typing: isTyping }) {
    if (conversationId !== this.id || !operator || operator.id === this.me.id) return;
    clearTimeout(this.typingShown.get(operator.id)?.timer);
    if (isTyping) {
      const timer = setTimeout(() => {
        this.typingShown.delete(operator.id);
        this.renderTyping();
      }, TYPING_SHOWN_MS);
      this.typingShown.set(operator.id, { name: operator.name, timer });
    } else {
      this.typingShown.delete(operator.id);
    }
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typingShown.values()].map((t) => t.name);
    this.el.typing.hidden = names.length === 0;
    this.el.typing.textContent = names.length ? interpolate(gettext("%(name)s is typing…"), { name: names.join(", ") }) : "";
  }

  // --- Composer and actions ---------------------------------------------------------------------

  bind() {
    const { input, composer } = this.el;
    byTestId("composer-quote-cancel").addEventListener("click", () => this.endQuote());
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitText();
    });
    input.addEventListener("keydown", (event) => this.onKeyDown(event));
    input.addEventListener("input", () => {
      this.autoGrow();
      this.updateCanned();
      const now = Date.now();
      if (input.value.trim() && now - this.typingSentAt > TYPING_EVERY_MS) {
        this.typingSentAt = now;
        this.dispatchEvent(new CustomEvent("typing", { detail: { isTyping: true } }));
      }
    });
    input.addEventListener("blur", () => this.stopTyping());
    this.el.scroller.addEventListener("scroll", () => {
      if (this.el.scroller.scrollTop < 150) this.loadOlder();
    });
    // A picture finishing loading grows the list: stay at the bottom if we were there.
    this.el.list.addEventListener("load", () => {
      const s = this.el.scroller;
      if (s.scrollHeight - s.scrollTop - s.clientHeight < 400) s.scrollTop = s.scrollHeight;
    }, true);
    this.el.stickerButton.addEventListener("click", () => this.toggleStickers());
    this.el.imageButton.addEventListener("click", () => this.el.imageInput.click());
    this.el.imageInput.addEventListener("change", () => {
      const file = this.el.imageInput.files && this.el.imageInput.files[0];
      this.el.imageInput.value = "";
      if (file) this.dispatchEvent(new CustomEvent("upload", { detail: { file } }));
    });
    this.el.claim.addEventListener("click", () => this.dispatchEvent(new Event("claim")));
    this.el.close.addEventListener("click", () => this.openCloseDialog());
    this.el.transfer.addEventListener("click", () => this.openTransferDialog());
    this.el.closeDialog.addEventListener("close", () => {
      if (this.el.closeDialog.returnValue !== "confirm") return;
      const note = byTestId("close-reason").value.trim();
      const choice = byTestId("close-reason-choice").value;
      this.dispatchEvent(new CustomEvent("close", { detail: { reason: (note || choice).slice(0, 200) } }));
    });
    this.el.transferDialog.addEventListener("close", () => {
      if (this.el.transferDialog.returnValue !== "confirm") return;
      const target = byTestId("transfer-target").value;
      const note = byTestId("transfer-note").value.trim();
      if (!target) return;
      const detail = target === "queue" ? { to_queue: true, note } : { to_operator_id: Number(target), note };
      this.dispatchEvent(new CustomEvent("transfer", { detail }));
    });
    this.el.hint.textContent = this.canned.length ? gettext("Type / for canned responses") : "";
  }

  onKeyDown(event) {
    const picker = this.el.cannedPicker;
    if (!picker.hidden) {
      const items = picker.querySelectorAll("li");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.cannedIndex = (this.cannedIndex + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
        this.highlightCanned();
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && items.length) {
        event.preventDefault();
        this.chooseCanned(Number(items[this.cannedIndex].dataset.cannedId));
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        picker.hidden = true;
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      this.submitText();
    }
    if (event.key === "Escape") this.hidePickers();
  }

  submitText() {
    const text = this.el.input.value;
    const canned = this.chosenCanned && this.chosenCanned.text === text ? this.chosenCanned : null;
    if ((!text.trim() && !canned) || !this.conversation) return;
    this.el.input.value = "";
    this.autoGrow();
    this.hidePickers();
    this.stopTyping();
    this.stickToBottom = true;
    // A response of only an image or a sticker has no text: its pending bubble shows its shortcut.
    const detail = canned ? { text: text || `/${canned.shortcut}`, canned_id: canned.id } : { text };
    this.forgetCanned();
    if (this.quoting) detail.quote_message_id = this.quoting.id;
    this.endQuote();
    this.dispatchEvent(new CustomEvent("send", { detail }));
  }

  // --- Quoting (LINE shows the customer's message above the answer) -------------------------------

  /** The message this one quotes, among those loaded: an answer's customer message (by quote
   * token), or what a customer quoted (LINE's quotedMessageId). */
  quotedBy(message) {
    const payload = message.payload || {};
    const quotes = (message.direction === "out" && payload.quoteToken) || payload.quotedMessageId;
    if (!quotes) return null;
    for (const other of this.messages.values()) {
      const theirs = other.payload || {};
      if (message.direction === "out" && payload.quoteToken && other.direction === "in" && theirs.quoteToken === payload.quoteToken) return other;
      if (payload.quotedMessageId && other.line_message_id === payload.quotedMessageId) return other;
    }
    return null;
  }

  startQuote(message) {
    this.quoting = message;
    const bar = byTestId("composer-quote");
    bar.querySelector("[data-role=quote-text]").textContent = (message.text || message.type).slice(0, 120);
    bar.hidden = false;
    this.el.input.focus();
  }

  endQuote() {
    this.quoting = null;
    byTestId("composer-quote").hidden = true;
  }

  stopTyping() {
    if (this.typingSentAt && Date.now() - this.typingSentAt < 6000) {
      this.dispatchEvent(new CustomEvent("typing", { detail: { isTyping: false } }));
    }
    this.typingSentAt = 0;
  }

  autoGrow() {
    const input = this.el.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(200, input.scrollHeight + 2)}px`;
  }

  hidePickers() {
    this.el.stickerPicker.hidden = true;
    this.el.cannedPicker.hidden = true;
  }

  toggleStickers() {
    const picker = this.el.stickerPicker;
    if (!picker.hidden) {
      picker.hidden = true;
      return;
    }
    this.el.cannedPicker.hidden = true;
    if (!picker.childElementCount) this.buildStickers(0);
    picker.hidden = false;
  }

  buildStickers(packageIndex) {
    const picker = this.el.stickerPicker;
    const tabs = h("div", { class: "picker-tabs" }, this.stickers.map((pack, index) => {
      const button = h("button", { type: "button", class: index === packageIndex ? "button button-small button-primary" : "button button-small" },
        stickerImage(pack.sticker_ids[0], { size: 24, alt: pack.package_id }));
      button.addEventListener("click", () => this.buildStickers(index));
      return button;
    }));
    const pack = this.stickers[packageIndex];
    const grid = h("div", { class: "sticker-grid" }, pack.sticker_ids.map((stickerId) => {
      const button = h("button", {
        type: "button", "data-testid": "sticker", "data-package-id": pack.package_id, "data-sticker-id": stickerId,
        title: interpolate(gettext("Sticker %(id)s"), { id: stickerId }),
      }, stickerImage(stickerId, { size: 60, alt: stickerId }));
      button.addEventListener("click", () => {
        this.el.stickerPicker.hidden = true;
        this.stickToBottom = true;
        this.dispatchEvent(new CustomEvent("send", { detail: { sticker: { package_id: pack.package_id, sticker_id: stickerId } } }));
      });
      return button;
    }));
    picker.replaceChildren(tabs, grid);
  }

  // The "/" picker: the server searches the operator's responses (shortcut, title and text, Thai
  // included) and fills in their variables for the open conversation, so the preview is what the
  // customer gets. Offline, the page's own list is searched and shown unfilled.
  updateCanned() {
    const value = this.el.input.value;
    if (this.chosenCanned && value !== this.chosenCanned.text) this.forgetCanned();
    if (!this.canned.length || !value.startsWith("/") || value.includes("\n")) {
      this.el.cannedPicker.hidden = true;
      return;
    }
    const query = value.slice(1).toLowerCase();
    const local = this.canned.filter((c) => [c.shortcut, c.title, c.text].some((s) => s.toLowerCase().includes(query)));
    this.showCanned(local.slice(0, 8));
    if (!this.id) return;
    const asked = (this.cannedAsked = (this.cannedAsked || 0) + 1);
    getJSON(withQuery(withId(this.urls.canned, this.id), { q: query }))
      .then((found) => {
        if (asked === this.cannedAsked && this.el.input.value === value) this.showCanned(found.responses.slice(0, 8));
      })
      .catch(() => {}); // the local matches stay
  }

  showCanned(matches) {
    const picker = this.el.cannedPicker;
    this.cannedMatches = matches;
    if (!matches.length) {
      picker.hidden = true;
      return;
    }
    this.el.stickerPicker.hidden = true;
    this.cannedIndex = Math.min(this.cannedIndex, matches.length - 1);
    picker.replaceChildren(...matches.map((c) => {
      const extras = [c.image_url ? gettext("Image") : c.sticker ? gettext("Sticker") : "", c.quick_replies.length ? interpolate(ngettext("%(count)s quick reply", "%(count)s quick replies", c.quick_replies.length), { count: c.quick_replies.length }) : ""].filter(Boolean);
      const item = h("li", { role: "option", "data-testid": "canned-item", "data-canned-id": c.id },
        h("span", { class: "shortcut", text: `/${c.shortcut}` }), " ", h("span", { text: c.title }),
        c.shared ? "" : h("small", { class: "canned-mine", text: ` · ${gettext("Mine")}` }),
        h("span", { class: "canned-text", "data-testid": "canned-preview", text: c.preview ?? c.text }),
        c.error ? h("span", { class: "canned-error", role: "alert", text: c.error }) : "",
        extras.length ? h("small", { class: "canned-extras", text: extras.join(" · ") }) : "");
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.chooseCanned(c.id);
      });
      return item;
    }));
    picker.hidden = false;
    this.highlightCanned();
  }

  highlightCanned() {
    this.el.cannedPicker.querySelectorAll("li").forEach((li, index) => li.setAttribute("aria-selected", String(index === this.cannedIndex)));
  }

  /** The chosen response's filled-in text goes into the composer; sent unchanged, it goes as the
   * response itself (canned_id: with its image or sticker and quick replies, filled in by the
   * server). Edited, it is an ordinary text. */
  chooseCanned(id) {
    const canned = (this.cannedMatches || []).find((c) => c.id === id) || this.canned.find((c) => c.id === id);
    if (!canned) return;
    const text = canned.preview ?? canned.text;
    this.el.input.value = text;
    this.chosenCanned = { id, text, shortcut: canned.shortcut };
    this.el.cannedPicker.hidden = true;
    this.el.hint.textContent = interpolate(gettext("Sends /%(shortcut)s as it is; editing the text sends only the text."), { shortcut: canned.shortcut });
    this.el.input.focus();
    this.autoGrow();
  }

  forgetCanned() {
    this.chosenCanned = null;
    this.el.hint.textContent = this.canned.length ? gettext("Type / for canned responses") : "";
  }

  openCloseDialog() {
    byTestId("close-reason").value = "";
    this.el.closeDialog.returnValue = "";
    this.el.closeDialog.showModal();
  }

  setOperators(operators) {
    this.operators = operators;
  }

  openTransferDialog() {
    const select = byTestId("transfer-target");
    const others = this.operators.filter((op) => op.id !== this.me.id);
    const options = others.map((op) => h("option", { value: op.id, "data-status": op.status },
      op.status === "away" ? interpolate(gettext("%(name)s (away)"), { name: op.name }) : op.name));
    options.push(h("option", { value: "queue", text: gettext("Back to the queue") }));
    select.replaceChildren(...options);
    byTestId("transfer-note").value = "";
    this.el.transferDialog.returnValue = "";
    this.el.transferDialog.showModal();
  }
}
