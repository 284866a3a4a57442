// On a phone the console shows one pane at a time — the conversation list, the chat, or the
// customer panel — and body[data-pane] says which (phone.css lays it out; wider screens ignore it).
// Going deeper (list → chat → panel) is a browser history entry, so the phone's own back gesture
// and the browser's back button walk back the way the operator came, like the in-page back buttons.

const NARROW = window.matchMedia("(max-width: 767.98px)");
const DEPTH = { list: 0, chat: 1, panel: 2 };
const PARENT = { list: "list", chat: "list", panel: "chat" };

export class Panes {
  constructor() {
    this.#set((history.state && history.state.pane) || "list");
    window.addEventListener("popstate", (event) => this.#set((event.state && event.state.pane) || "list"));
    for (const button of document.querySelectorAll("[data-pane-back]")) {
      button.addEventListener("click", () => this.back());
    }
    document.querySelector('[data-testid="panel-toggle"]').addEventListener("click", () => this.show("panel"));
  }

  get current() {
    return document.body.dataset.pane;
  }

  /** Show a pane; one level deeper is a history entry (on a phone), anything else replaces it. */
  show(pane) {
    if (pane === this.current) return;
    const deeper = DEPTH[pane] > DEPTH[this.current];
    this.#set(pane);
    if (!NARROW.matches) return;
    // The entry keeps whatever else the page stores in the state (the URL is app.js's business).
    const state = { ...(history.state || {}), pane };
    if (deeper) history.pushState(state, "", location.href);
    else history.replaceState(state, "", location.href);
  }

  /** The in-page back button: the same as the browser's back when we made the entry. */
  back() {
    if (NARROW.matches && history.state && history.state.pane === this.current && this.current !== "list") {
      history.back();
      return;
    }
    this.show(PARENT[this.current]);
  }

  #set(pane) {
    document.body.dataset.pane = pane in DEPTH ? pane : "list";
    // The pane leaving the screen should not keep the on-screen keyboard up.
    if (pane !== "chat" && document.activeElement && document.activeElement.matches("textarea, input")) {
      document.activeElement.blur();
    }
  }
}
