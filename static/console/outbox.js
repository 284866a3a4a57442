// Messages the operator has sent that the server has not acknowledged yet, kept in localStorage
// so they survive a reload and go out when the connection is back. Each keeps its client_id for
// life: however often it is resent, the server stores it once (send_message dedupes on it).
// Shared by every tab of the operator (same key); the "storage" event keeps tabs in step.

export class Outbox extends EventTarget {
  constructor(operatorId) {
    super();
    this.key = `livechat:outbox:${operatorId}`;
    window.addEventListener("storage", (event) => {
      if (event.key === this.key) this.dispatchEvent(new Event("change"));
    });
  }

  all() {
    try {
      const items = JSON.parse(localStorage.getItem(this.key) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  forConversation(conversationId) {
    return this.all().filter((item) => item.conversation_id === conversationId);
  }

  has(clientId) {
    return this.all().some((item) => item.client_id === clientId);
  }

  add(item) {
    this.save([...this.all().filter((i) => i.client_id !== item.client_id), item]);
  }

  remove(clientId) {
    const items = this.all();
    const kept = items.filter((item) => item.client_id !== clientId);
    if (kept.length !== items.length) this.save(kept);
    return kept.length !== items.length;
  }

  save(items) {
    try {
      localStorage.setItem(this.key, JSON.stringify(items));
    } catch {
      // storage full or disabled: the in-page copy still goes out on reconnect
    }
    this.dispatchEvent(new Event("change"));
  }
}
