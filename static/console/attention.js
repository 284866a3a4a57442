// Getting the operator's attention: a sound (toggle remembered per operator), a desktop
// notification when the tab is hidden, a toast otherwise, and the unread count in the title.
import { byTestId, h } from "./dom.js";

export class Attention {
  constructor(operatorId, soundUrl) {
    this.soundKey = `livechat:sound:${operatorId}`;
    this.soundOn = localStorage.getItem(this.soundKey) !== "off";
    this.audio = new Audio(soundUrl);
    this.audio.preload = "auto";
    this.baseTitle = document.title;
    this.toasts = byTestId("toasts");
    this.alerts = 0;
  }

  setSound(on) {
    this.soundOn = on;
    localStorage.setItem(this.soundKey, on ? "on" : "off");
  }

  /** Something needs the operator: beep, and notify (desktop if hidden, toast if visible). */
  alert({ title, body = "", tag = "", onClick = null, toastWhenVisible = true }) {
    this.alerts += 1;
    this.toasts.dataset.alertCount = String(this.alerts);
    if (this.soundOn) {
      try {
        this.audio.currentTime = 0;
        const played = this.audio.play();
        if (played && typeof played.catch === "function") played.catch(() => {});
      } catch {
        // autoplay refused before the first click: nothing to do
      }
    }
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      const notification = new Notification(title, { body, tag: tag || undefined });
      notification.onclick = () => {
        window.focus();
        if (onClick) onClick();
        notification.close();
      };
    } else if (toastWhenVisible) {
      this.toast(title, body, { onClick });
    }
  }

  toast(title, body = "", { error = false, onClick = null, timeoutMs = 5000 } = {}) {
    const element = h(
      "div",
      { class: error ? "toast toast-error" : "toast", role: error ? "alert" : "status", "data-testid": "toast" },
      h("strong", { text: title }),
      body ? h("span", { text: body }) : null,
    );
    element.addEventListener("click", () => {
      if (onClick) onClick();
      element.remove();
    });
    this.toasts.append(element);
    while (this.toasts.children.length > 4) this.toasts.firstElementChild.remove();
    setTimeout(() => element.remove(), timeoutMs);
  }

  setUnread(count) {
    document.title = count > 0 ? `(${count}) ${this.baseTitle}` : this.baseTitle;
  }
}
