// The customer panel: profile, following state, the customer's other conversations and the
// open conversation's timeline (handoff, claimed by, transferred to, closed); for supervisors,
// the customer's personal data (PDPA): export it, or erase it after a confirmation.
import { getJSON, postJSON, withId } from "./api.js";
import { $, byTestId, h } from "./dom.js";
import { avatar, fullDateTime, shortWhen, statusLabel } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

const LANGUAGES = { th: "ไทย", en: "English", ja: "日本語", zh: "中文", ko: "한국어" };

/** The system's close reason is a code (cleanup's auto-close); an operator's is their own words. */
const closeReason = (reason) => (reason === "inactivity" ? gettext("No message for a while: closed automatically") : reason);

export class CustomerPanel extends EventTarget {
  constructor({ me, urls }) {
    super();
    this.me = me;
    this.urls = urls;
    this.root = byTestId("customer-panel");
    this.conversationId = null;
    this.contactId = null;
    this.timer = null;
    const erase = byTestId("erase-data", this.root);  // only on supervisors' pages
    if (erase) {
      const dialog = byTestId("erase-dialog");
      erase.addEventListener("click", () => { dialog.returnValue = ""; dialog.showModal(); });
      dialog.addEventListener("close", () => { if (dialog.returnValue === "confirm") this.erase(); });
    }
  }

  async erase() {
    const { contactId, conversationId } = this;
    try {
      await postJSON(withId(this.urls.contact_erase, contactId));
      this.dispatchEvent(new CustomEvent("erased", { detail: contactId }));
      this.load(conversationId);
    } catch (error) {
      this.dispatchEvent(new CustomEvent("erase-failed", { detail: error }));
    }
  }

  async load(conversationId) {
    this.conversationId = conversationId;
    try {
      const data = await getJSON(withId(this.urls.panel, conversationId));
      if (data.conversation_id === this.conversationId) this.render(data);
    } catch {
      // offline: the next change or reopening loads it
    }
  }

  refreshSoon(conversationId) {
    if (conversationId !== this.conversationId) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(conversationId), 300);
  }

  render(data) {
    const contact = data.contact;
    this.contactId = contact.id;
    const exportLink = byTestId("export-data", this.root);
    if (exportLink) exportLink.href = withId(this.urls.contact_export, contact.id);
    $(".panel-empty", this.root).hidden = true;
    $(".panel-body", this.root).hidden = false;
    const picture = avatar(contact, 64, "panel-avatar");
    $('[data-role="panel-avatar"]', this.root).replaceWith(picture);
    byTestId("customer-name").textContent = contact.display_name;
    byTestId("customer-status-message").textContent = contact.status_message || "";
    byTestId("customer-line-id").textContent = contact.line_user_id;
    byTestId("customer-language").textContent = LANGUAGES[contact.language] || contact.language || "—";
    const following = byTestId("following-state");
    following.dataset.following = String(contact.is_following);
    following.replaceChildren(contact.is_following
      ? h("span", { class: "chip chip-active", text: gettext("Following") })
      : h("span", { class: "chip chip-unfollowed", text: contact.unfollowed_at
        ? interpolate(gettext("Unfollowed %(when)s"), { when: fullDateTime(contact.unfollowed_at) })
        : gettext("Unfollowed") }));
    byTestId("customer-since").textContent = fullDateTime(contact.created_at);

    this.renderCsat(data.csat);

    const past = byTestId("past-conversations");
    past.replaceChildren(...(data.past_conversations.length
      ? data.past_conversations.map((c) => {
        const item = h("li", { "data-testid": "past-conversation", "data-conversation-id": c.id, title: closeReason(c.close_reason || "") },
          h("span", { text: shortWhen(c.created_at) + " · " + interpolate(ngettext("%(count)s message", "%(count)s messages", c.message_count), { count: c.message_count }) }),
          h("span", { class: `chip chip-${c.status}`, text: statusLabel(c.status) }),
          c.csat_rating ? h("span", { class: "csat-stars", title: gettext("Customer rating"), text: `${"★".repeat(c.csat_rating)}` }) : null);
        item.addEventListener("click", () => this.dispatchEvent(new CustomEvent("open", { detail: c.id })));
        return item;
      })
      : [h("li", { class: "muted", text: gettext("No earlier conversations.") })]));

    const timeline = byTestId("event-timeline");
    timeline.replaceChildren(...data.events.map((event) => h("li", { class: `kind-${event.kind}`, "data-testid": "timeline-event", "data-kind": event.kind },
      h("span", { class: "when", text: fullDateTime(event.created_at) }),
      h("span", { text: this.describe(event) }),
      event.note ? h("span", { class: "note", text: closeReason(event.note) }) : null)));
    // Private notes and the customer's notes and custom fields (annotations.js).
    this.dispatchEvent(new CustomEvent("loaded", { detail: data }));
  }

  // The CSAT survey of this conversation: the stars and comment, or that it is still unanswered.
  renderCsat(survey) {
    const box = byTestId("csat-result");
    box.hidden = !survey;
    if (!survey) return;
    const stars = $('[data-role="csat-stars"]', box);
    const comment = $('[data-role="csat-comment"]', box);
    if (survey.rating) {
      stars.textContent = "★".repeat(survey.rating) + "☆".repeat(5 - survey.rating);
      stars.setAttribute("aria-label", interpolate(gettext("%(rating)s of 5"), { rating: survey.rating }));
      $('[data-role="csat-when"]', box).textContent = fullDateTime(survey.rated_at);
    } else {
      stars.textContent = gettext("Survey sent, no rating yet");
      stars.removeAttribute("aria-label");
      $('[data-role="csat-when"]', box).textContent = fullDateTime(survey.sent_at);
    }
    comment.hidden = !survey.comment;
    comment.textContent = survey.comment || "";
  }

  describe(event) {
    const actor = event.actor ? (event.actor.id === this.me.id ? gettext("You") : event.actor.name) : null;
    const to = event.to_operator ? (event.to_operator.id === this.me.id ? gettext("you") : event.to_operator.name) : "";
    switch (event.kind) {
      case "created": return gettext("Conversation started");
      case "handoff": return event.actor_kind === "operator" && actor
        ? interpolate(gettext("%(actor)s took over from the bot"), { actor })
        : gettext("Customer asked for an agent");
      case "claimed": return interpolate(gettext("Claimed by %(actor)s"), { actor: actor || to || "?" });
      case "transferred": return interpolate(gettext("%(actor)s transferred it to %(to)s"), { actor: actor || "?", to });
      case "returned": return interpolate(gettext("%(actor)s returned it to the queue"), { actor: actor || "?" });
      case "closed": return actor
        ? interpolate(gettext("Closed by %(actor)s"), { actor })
        : gettext("Closed automatically");
      default: return event.kind;
    }
  }
}
