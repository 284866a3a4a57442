// Labels, private notes and what the team keeps about a customer, in the console: the label
// chips and picker of the open conversation, the list's label filter, the private-note box under
// the composer, the customer's notes and custom fields in the panel, and the frames that keep
// every console in step (labels_updated, note_added, note_mention, contact_updated).
// The server decides who may: set_labels — the holder or a supervisor; update_contact — a
// supervisor or the operator serving the customer; add_note — any team member.
import { byTestId, h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";

export function labelChip(label) {
  return h("span", { class: "chip chip-label", "data-testid": "label-chip", "data-label-id": label.id, style: `--label-colour: ${label.colour}`, text: label.name });
}

export class Annotations {
  constructor({ me, labels, list, chat, panel, connection, attention, open, showError }) {
    Object.assign(this, { me, labels, list, chat, panel, connection, attention, open, showError });
    this.contact = null;
    this.el = {
      chatLabels: byTestId("chat-labels"),
      labelsButton: byTestId("labels-button"),
      picker: byTestId("label-picker"),
      filter: byTestId("label-filter"),
      noteForm: byTestId("note-composer"),
      noteInput: byTestId("note-input"),
      details: byTestId("contact-details"),
      contactNotes: byTestId("contact-notes"),
      fields: byTestId("custom-fields"),
      addField: byTestId("add-custom-field"),
      save: byTestId("contact-save"),
    };
    this.bind();
  }

  bind() {
    this.el.filter.addEventListener("change", () => this.list.setLabelFilter(Number(this.el.filter.value) || null));
    this.el.labelsButton.addEventListener("click", () => {
      this.el.picker.hidden = !this.el.picker.hidden;
      if (!this.el.picker.hidden) this.renderPicker();
    });
    this.el.noteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.el.noteInput.value.trim();
      if (!text || !this.chat.id) return;
      if (this.connection.send("add_note", { conversation_id: this.chat.id, text })) this.el.noteInput.value = "";
      else this.showError(gettext("Offline: the note was not saved"));
    });
    this.el.addField.addEventListener("click", () => this.el.fields.append(this.fieldRow("", "")));
    this.el.save.addEventListener("click", () => this.saveContact());
    this.panel.addEventListener("loaded", (event) => this.panelLoaded(event.detail));
  }

  // --- Labels -----------------------------------------------------------------------------------

  /** The open conversation's labels, as the list row or the room snapshot last told them. */
  currentLabels() {
    const id = this.chat.id;
    if (!id) return [];
    return (this.list.rows.get(id) || {}).labels || (this.chat.conversation && this.chat.conversation.labels) || [];
  }

  mayLabel() {
    const conversation = this.chat.conversation;
    if (!conversation) return false;
    return this.me.is_supervisor || Boolean(conversation.assigned_operator && conversation.assigned_operator.id === this.me.id);
  }

  /** The server's rule (permissions.may_edit_contact) as far as the open conversation tells it. */
  mayEditContact() {
    const conversation = this.chat.conversation;
    return this.me.is_supervisor || Boolean(conversation && conversation.status !== "closed"
      && conversation.assigned_operator && conversation.assigned_operator.id === this.me.id);
  }

  applyEditable() {
    const editable = this.mayEditContact();
    this.el.details.dataset.editable = String(editable);
    this.el.contactNotes.readOnly = !editable;
    this.el.save.hidden = !editable;
    this.el.addField.hidden = !editable;
    for (const input of this.el.fields.querySelectorAll("input")) input.readOnly = !editable;
    for (const button of this.el.fields.querySelectorAll("button")) button.hidden = !editable;
  }

  refreshChat() {
    if (!this.chat.id) return;
    if (this.contact) this.applyEditable();
    this.el.chatLabels.replaceChildren(...this.currentLabels().map(labelChip));
    this.el.labelsButton.hidden = !this.mayLabel() || !this.labels.length;
    if (this.el.labelsButton.hidden) this.el.picker.hidden = true;
    if (!this.el.picker.hidden) this.renderPicker();
  }

  renderPicker() {
    const chosen = new Set(this.currentLabels().map((label) => label.id));
    this.el.picker.replaceChildren(...this.labels.map((label) => {
      const box = h("input", { type: "checkbox", value: label.id, "data-testid": "label-option", checked: chosen.has(label.id) });
      box.addEventListener("change", () => this.sendLabels());
      return h("label", { class: "label-option" }, box, labelChip(label));
    }));
  }

  sendLabels() {
    const ids = [...this.el.picker.querySelectorAll("input:checked")].map((box) => Number(box.value));
    if (!this.connection.send("set_labels", { conversation_id: this.chat.id, label_ids: ids })) {
      this.showError(gettext("Offline: the labels were not saved"));
    }
  }

  onLabels({ conversation_id: id, labels }) {
    this.list.applyLabels(id, labels);
    if (this.chat.conversation && this.chat.id === id) this.chat.conversation.labels = labels;
    if (this.chat.id === id) this.refreshChat();
  }

  // --- Notes and the customer's details -------------------------------------------------------------

  panelLoaded(data) {
    this.chat.setNotes(data.conversation_id, data.notes || []);
    this.showContact(data.contact);
  }

  showContact(contact) {
    this.contact = contact;
    this.el.details.hidden = false;
    if (document.activeElement !== this.el.contactNotes) this.el.contactNotes.value = contact.notes || "";
    this.el.fields.replaceChildren(...Object.entries(contact.custom_fields || {}).map(([key, value]) => this.fieldRow(key, value)));
    this.applyEditable();
  }

  fieldRow(key, value) {
    const remove = h("button", { type: "button", class: "link-button", "data-testid": "remove-custom-field", text: gettext("Remove") });
    const row = h("li", { class: "custom-field", "data-testid": "custom-field" },
      h("input", { type: "text", class: "field-key", "data-testid": "custom-field-key", maxlength: "50", value: key, placeholder: gettext("Name, e.g. customer number"), "aria-label": gettext("Field name") }),
      h("input", { type: "text", class: "field-value", "data-testid": "custom-field-value", maxlength: "500", value, "aria-label": gettext("Value") }),
      remove);
    remove.addEventListener("click", () => row.remove());
    return row;
  }

  saveContact() {
    if (!this.contact) return;
    const fields = {};
    for (const row of this.el.fields.querySelectorAll("[data-testid=custom-field]")) {
      const key = row.querySelector(".field-key").value.trim();
      if (key) fields[key] = row.querySelector(".field-value").value.trim();
    }
    const payload = { contact_id: this.contact.id, notes: this.el.contactNotes.value, custom_fields: fields };
    if (!this.connection.send("update_contact", payload, "contact-save")) this.showError(gettext("Offline: the customer's details were not saved"));
  }

  onContact({ contact, by }) {
    if (!this.contact || contact.id !== this.contact.id) return;
    this.el.contactNotes.blur();
    this.showContact({ ...this.contact, ...contact });
    if (by && by.id === this.me.id) this.attention.toast(gettext("Customer details saved"));
  }

  /** Frames app.js does not handle itself; returns whether this module took it. */
  onFrame(type, payload) {
    switch (type) {
      case "labels_updated": this.onLabels(payload); return true;
      case "note_added": this.chat.setNotes(payload.note.conversation_id, [payload.note]); return true;
      case "contact_updated": this.onContact(payload); return true;
      case "note_mention": {
        const note = payload.note;
        this.attention.alert({
          title: interpolate(gettext("%(name)s mentioned you in a note"), { name: note.author ? note.author.name : "" }),
          body: note.text,
          tag: `note-${note.id}`,
          onClick: () => this.open(payload.conversation_id),
        });
        return true;
      }
      default: return false;
    }
  }
}
