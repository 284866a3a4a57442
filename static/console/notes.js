// Private notes in the chat's timeline: staff only, never sent to the customer. The chat view
// interleaves them with the messages by time; livechat/conversations/annotations.py writes them.
import { h } from "./dom.js";
import { timeOfDay } from "./format.js";
import { gettext } from "./i18n.js";

/** Messages (by seq) with the notes slotted in before the first message written after them. */
export function interleaveNotes(messages, notes) {
  const pending = [...notes].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.id - b.id);
  if (!pending.length) return messages;
  const items = [];
  for (const message of messages) {
    while (pending.length && message.created_at && String(pending[0].created_at) < String(message.created_at)) {
      items.push({ ...pending.shift(), isNote: true });
    }
    items.push(message);
  }
  for (const note of pending) items.push({ ...note, isNote: true });
  return items;
}

export const noteSignature = (note) => JSON.stringify([note.id, note.text, note.author && note.author.id]);

export function renderNote(note, me) {
  const author = note.author ? (note.author.id === me.id ? gettext("You") : note.author.name) : "";
  return h("li", { class: "note-item", "data-testid": "private-note", "data-note-id": note.id },
    h("div", { class: "note-bubble" },
      h("span", { class: "note-label", text: gettext("Private note") }),
      h("span", { class: "note-who", text: author }),
      h("p", { class: "note-text", "data-testid": "private-note-text", text: note.text }),
      h("span", { class: "note-time", text: timeOfDay(note.created_at) })));
}
