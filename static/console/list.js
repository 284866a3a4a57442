// The conversation list: tabs (Queue / Mine / All open / Closed) with live counts, search,
// paging, and rows kept up to date from socket frames without reloading.
import { getJSON, withQuery } from "./api.js";
import { $$, byTestId, h, reconcile } from "./dom.js";
import { avatar, duration, previewText, shortWhen, since, slaLabel, statusLabel } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { labelChip } from "./annotations.js";

export const TABS = ["queue", "mine", "open", "closed"];
const SLA_SEVERITY = { warning: 1, breach: 2 };

/**
 * Whether the SLA clock a row's badge stands for still runs after this change (the server's rule,
 * livechat/conversations/sla.py): a first response until the first operator message, a next
 * response until an operator writes after the customer's message (and only while active), a
 * resolution until the close.
 */
function slaStillRuns(sla, row, messages) {
  if (row.status === "closed") return false;
  if (sla.kind === "first_response") return !row.first_response_at;
  if (sla.kind === "next_response") {
    const started = Date.parse(sla.started_at);
    return row.status === "active" && !messages.some((m) => m.direction === "out" && m.sender_kind === "operator"
      && Date.parse(m.created_at) > started);
  }
  return true;
}

/** Whether profile `a` is newer than `b` (frames built in different threads may arrive late). */
function newerProfile(a, b) {
  return Boolean(a && b && (a.profile_fetched_at || "") > (b.profile_fetched_at || ""));
}

export class ConversationList extends EventTarget {
  constructor({ me, urls, counts, lists }) {
    super();
    this.me = me;
    this.urls = urls;
    this.rows = new Map();
    this.counts = { ...counts };
    this.tab = "queue";
    this.query = "";
    this.labelFilter = null; // a label id: only conversations with it (annotations.js)
    this.searchIds = null;
    this.cursors = {};
    this.selectedId = null;
    this.elements = new Map();
    this.listElement = byTestId("conversation-list");
    this.emptyElement = byTestId("list-empty");
    this.loadMoreButton = byTestId("load-more");
    this.countsTimer = null;
    for (const row of [...lists.queue, ...lists.mine]) this.put(row);
    this.waitingIds = new Set(lists.queue.map((row) => row.id));
    this.bind();
    setInterval(() => this.render(true), 30000); // waiting times move on
  }

  bind() {
    for (const button of $$(".tab")) {
      button.addEventListener("click", () => this.switchTab(button.dataset.tab));
    }
    let searchTimer = null;
    byTestId("search-input").addEventListener("input", (event) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => this.search(event.target.value.trim()), 250);
    });
    this.loadMoreButton.addEventListener("click", () => this.load(this.tab, { append: true }));
    this.listElement.addEventListener("scroll", () => {
      const el = this.listElement;
      if (el.scrollHeight - el.scrollTop - el.clientHeight < 120 && this.cursors[this.cursorKey()] && !this.loading) {
        this.load(this.tab, { append: true });
      }
    });
  }

  // --- State ----------------------------------------------------------------------------------

  /** A row as the server computed it (list endpoints): replaces what we had. */
  put(row) {
    const previous = this.rows.get(row.id);
    this.rows.set(row.id, {
      ...row,
      queue_position: row.queue_position ?? previous?.queue_position,
      estimated_wait_seconds: previous?.estimated_wait_seconds,
      counted_seq: row.last_seq,
      preview_seq: row.last_seq,
    });
  }

  membership(row) {
    const mine = row.status === "active" && row.assigned_operator && row.assigned_operator.id === this.me.id;
    return { queue: row.status === "waiting", mine: Boolean(mine), open: row.status !== "closed", closed: row.status === "closed" };
  }

  isReading(id) {
    return this.selectedId === id && document.visibilityState === "visible";
  }

  /**
   * A conversation (and maybe new messages) from a frame. Returns what changed:
   * {row, isNew, statusChanged, inbound: [messages the customer just sent]}.
   */
  upsert(conversation, messages = []) {
    const id = conversation ? conversation.id : messages[0]?.conversation_id;
    let row = this.rows.get(id);
    if (!row && !conversation) return null;
    const isNew = !row;
    const before = row ? this.membership(row) : null;
    const firstSeq = messages.length ? Math.min(...messages.map((m) => m.seq)) - 1 : conversation.last_seq;
    const keptContact = row && conversation && newerProfile(row.contact, conversation.contact) ? row.contact : null;
    row = {
      unread: 0,
      last_message: null,
      counted_seq: firstSeq,
      preview_seq: firstSeq,
      ...(row || {}),
      ...(conversation || {}),
    };
    if (keptContact) row.contact = keptContact; // a late frame built before the profile arrived
    const inbound = [];
    for (const message of [...messages].sort((a, b) => a.seq - b.seq)) {
      if (message.seq >= (row.preview_seq || 0)) {
        row.last_message = message;
        row.preview_seq = message.seq;
        if (message.created_at && (!row.last_message_at || message.created_at > row.last_message_at)) {
          row.last_message_at = message.created_at;
        }
      }
      if (message.seq > (row.counted_seq || 0)) {
        if (message.direction === "in") {
          inbound.push(message);
          if (!this.isReading(id)) row.unread = (row.unread || 0) + 1;
        }
        row.counted_seq = message.seq;
      }
    }
    if (row.status !== "waiting") delete row.queue_position;
    if (row.sla && !slaStillRuns(row.sla, row, messages)) row.sla = null;
    this.rows.set(id, row);
    const after = this.membership(row);
    const statusChanged = !before || TABS.some((tab) => before[tab] !== after[tab]);
    if (before && statusChanged) {
      for (const tab of TABS) this.counts[tab] += Number(after[tab]) - Number(before[tab]);
    }
    if (isNew) this.refreshCountsSoon();
    this.render();
    return { row, isNew, statusChanged, inbound };
  }

  /** queue_update: positions and estimated waits; returns the rows that just joined the queue. */
  applyQueue(waiting) {
    const ids = new Set();
    for (const item of waiting) {
      ids.add(item.conversation_id);
      if (item.conversation) this.upsert(item.conversation);
      const row = this.rows.get(item.conversation_id);
      if (row) {
        row.queue_position = item.position;
        row.estimated_wait_seconds = item.estimated_wait_seconds;
      }
    }
    for (const row of this.rows.values()) {
      if (!ids.has(row.id)) delete row.queue_position;
    }
    const joined = [...ids].filter((id) => !this.waitingIds.has(id)).map((id) => this.rows.get(id)).filter(Boolean);
    this.waitingIds = ids;
    this.counts.queue = waiting.length;
    this.render();
    return joined;
  }

  /** sla_alert: the row shows the alert, unless a worse one still stands there. */
  applySlaAlert(alert) {
    if (!alert.conversation) return;
    this.upsert(alert.conversation);
    const row = this.rows.get(alert.conversation_id);
    if (!row) return;
    const { kind, level, started_at, due_at } = alert;
    if (!row.sla || SLA_SEVERITY[level] >= SLA_SEVERITY[row.sla.level]) row.sla = { kind, level, started_at, due_at };
    this.render();
  }

  markRead(id) {
    const row = this.rows.get(id);
    if (row && row.unread) {
      row.unread = 0;
      this.render();
    }
  }

  select(id) {
    this.selectedId = id;
    this.markRead(id);
    this.render();
  }

  totalUnread() {
    let total = 0;
    for (const row of this.rows.values()) {
      const m = this.membership(row);
      if (m.queue || m.mine) total += row.unread || 0;
    }
    return total;
  }

  // --- Server ---------------------------------------------------------------------------------

  cursorKey(tab = this.tab) {
    return `${tab}|${this.query}|${this.labelFilter || ""}`;
  }

  setLabelFilter(labelId) {
    this.labelFilter = labelId;
    this.render();
    this.load(this.tab);
  }

  /** labels_updated: a conversation's labels, all of them. */
  applyLabels(id, labels) {
    const row = this.rows.get(id);
    if (!row) return;
    row.labels = labels;
    this.render();
  }

  switchTab(tab) {
    if (!TABS.includes(tab)) return;
    this.tab = tab;
    this.render();
    this.listElement.scrollTop = 0;
    this.load(tab);
  }

  search(query) {
    this.query = query;
    if (!query) {
      this.searchIds = null;
      this.render();
      return;
    }
    this.load(this.tab);
  }

  async load(tab = this.tab, { append = false } = {}) {
    const query = this.query;
    const label = this.labelFilter;
    const key = this.cursorKey(tab);
    this.loading = true;
    try {
      const data = await getJSON(withQuery(this.urls.list, { tab, q: query, label, cursor: append ? this.cursors[key] : "" }));
      if (tab !== this.tab || query !== this.query || label !== this.labelFilter) return;
      for (const row of data.rows) this.put(row);
      this.cursors[key] = data.next_cursor;
      if (query) {
        const ids = new Set(append && this.searchIds ? this.searchIds : []);
        for (const row of data.rows) ids.add(row.id);
        this.searchIds = ids;
      } else {
        this.searchIds = null;
      }
      this.render();
    } catch (error) {
      this.dispatchEvent(new CustomEvent("error", { detail: error }));
    } finally {
      this.loading = false;
    }
  }

  async refreshCounts() {
    try {
      this.counts = await getJSON(this.urls.counts);
      this.renderCounts();
    } catch {
      // offline: the next refresh will do
    }
  }

  refreshCountsSoon() {
    clearTimeout(this.countsTimer);
    this.countsTimer = setTimeout(() => this.refreshCounts(), 400);
  }

  // --- Rendering ------------------------------------------------------------------------------

  visibleRows() {
    const rows = [...this.rows.values()].filter(
      (row) => this.membership(row)[this.tab] && (!this.searchIds || this.searchIds.has(row.id))
        && (!this.labelFilter || (row.labels || []).some((label) => label.id === this.labelFilter)),
    );
    if (this.tab === "queue") {
      rows.sort((a, b) => (a.queue_position ?? 1e9) - (b.queue_position ?? 1e9)
        || String(a.handoff_requested_at).localeCompare(String(b.handoff_requested_at)));
    } else {
      rows.sort((a, b) => String(b.last_message_at || "").localeCompare(String(a.last_message_at || "")) || b.id - a.id);
    }
    return rows;
  }

  render(force = false) {
    const rows = this.visibleRows();
    const nodes = rows.map((row) => this.rowElement(row, force));
    reconcile(this.listElement, nodes);
    this.emptyElement.hidden = rows.length > 0;
    this.loadMoreButton.hidden = !this.cursors[this.cursorKey()];
    for (const button of $$(".tab")) button.setAttribute("aria-selected", String(button.dataset.tab === this.tab));
    this.renderCounts();
    this.dispatchEvent(new CustomEvent("unread", { detail: this.totalUnread() }));
  }

  renderCounts() {
    for (const tab of TABS) {
      const element = byTestId(`tab-count-${tab}`);
      element.textContent = String(Math.max(0, this.counts[tab] ?? 0));
      element.classList.toggle("has-items", (this.counts[tab] ?? 0) > 0);
    }
  }

  rowElement(row, force) {
    const showUnread = row.unread > 0 && row.status !== "closed" && row.status !== "bot";
    const signature = JSON.stringify([
      row.status, row.contact, row.assigned_operator, row.last_message_at, row.last_message && row.last_message.seq,
      row.last_message && row.last_message.is_unsent, showUnread && row.unread, row.queue_position, row.id === this.selectedId,
      row.sla && [row.sla.kind, row.sla.level, row.sla.due_at], row.labels,
    ]);
    const cached = this.elements.get(row.id);
    if (cached && cached.signature === signature && !force) return cached.element;
    const element = h("li", {
      class: ["row", row.id === this.selectedId ? "is-selected" : "", showUnread ? "has-unread" : ""].join(" "),
      "data-testid": "conversation-row",
      "data-conversation-id": row.id,
      "data-status": row.status,
      tabindex: "0",
      role: "button",
    },
    avatar(row.contact, 36),
    h("span", { class: "row-name", "data-testid": "row-name", text: row.contact.display_name }),
    h("span", { class: "row-time", text: shortWhen(row.last_message_at) }),
    h("span", { class: "row-preview", "data-testid": "row-preview", text: previewText(row.last_message, this.me) || "\u00a0" }),
    h("span", { class: "row-side" },
      showUnread ? h("span", { class: "unread", "data-testid": "row-unread", text: row.unread > 99 ? "99+" : String(row.unread) }) : null,
      row.status === "waiting" ? this.claimButton(row) : null),
    h("span", { class: "row-meta", "data-testid": "row-meta" }, this.meta(row)));
    const open = () => this.dispatchEvent(new CustomEvent("select", { detail: row.id }));
    element.addEventListener("click", open);
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter") open();
    });
    this.elements.set(row.id, { signature, element });
    return element;
  }

  claimButton(row) {
    const button = h("button", { type: "button", class: "button button-small row-claim", "data-testid": "row-claim", text: gettext("Claim") });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      this.dispatchEvent(new CustomEvent("claim", { detail: row.id }));
    });
    return button;
  }

  meta(row) {
    const parts = [h("span", { class: `chip chip-${row.status}`, text: statusLabel(row.status) })];
    if (row.sla) {  // amber: about to miss a target; red: missed it
      const label = slaLabel(row.sla);
      parts.push(h("span", {
        class: `chip chip-sla-${row.sla.level}`, "data-testid": "row-sla", "data-level": row.sla.level,
        "data-kind": row.sla.kind, title: label, "aria-label": label, text: gettext("SLA"),
      }));
    }
    if (row.status === "waiting") {
      if (row.queue_position) {
        parts.push(h("span", { "data-testid": "row-position", text: interpolate(gettext("#%(position)s in queue"), { position: row.queue_position }) }));
      }
      parts.push(h("span", { "data-testid": "row-waiting", text: interpolate(gettext("waiting %(time)s"), { time: since(row.handoff_requested_at || row.created_at) }) }));
      if (row.estimated_wait_seconds) {
        parts.push(h("span", { class: "muted", text: interpolate(gettext("est. %(time)s"), { time: duration(row.estimated_wait_seconds) }) }));
      }
    } else if (row.status === "active" && row.assigned_operator) {
      const mine = row.assigned_operator.id === this.me.id;
      parts.push(h("span", { "data-testid": "row-assignee", text: mine ? gettext("You") : row.assigned_operator.name }));
    }
    if (row.contact && row.contact.is_following === false) {
      parts.push(h("span", { class: "chip chip-unfollowed", text: gettext("Unfollowed") }));
    }
    for (const label of row.labels || []) parts.push(labelChip(label));
    return parts;
  }
}
