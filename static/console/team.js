// The supervisors' team board: draws the board from /console/team/board.json and redraws it every
// few seconds (why polling and not the socket: livechat/console/team_views.py); each active
// conversation has a "reassign" control that calls the server's transfer.

import { getJSON, postJSON, withId } from "./api.js";

const data = JSON.parse(document.getElementById("team-data").textContent);
const labels = JSON.parse(document.getElementById("team-labels").textContent);
const language = document.documentElement.lang || "en";
let board = data.board;
let busy = false; // a reassign is on its way: the next redraw waits for its answer

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function minutes(seconds) {
  const total = Math.max(0, Math.floor(seconds / 60));
  const hours = Math.floor(total / 60);
  return hours ? `${hours}:${String(total % 60).padStart(2, "0")} h` : `${total} min`;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString(language, { hour: "2-digit", minute: "2-digit" });
}

function slaChip(sla) {
  if (!sla) return null;
  return el("span", {
    class: "sla-chip",
    "data-level": sla.level,
    "data-testid": "sla-chip",
    text: `${labels[sla.level] || sla.level} · ${labels[sla.kind] || sla.kind} · ${labels.due} ${clock(sla.due_at)}`,
  });
}

function customer(row) {
  return el("a", { href: `${data.urls.console}?c=${row.id}`, text: row.contact.display_name });
}

function fill(table, rows, empty) {
  const body = document.querySelector(`[data-testid="${table}"] tbody`);
  body.replaceChildren(...(rows.length ? rows : [el("tr", { class: "empty-row" }, el("td", { colspan: "4", text: empty }))]));
}

function teamRow(member) {
  const full = member.capacity > 0 && member.active >= member.capacity;
  return el(
    "tr",
    { "data-testid": "team-member", "data-operator-id": member.id, "data-status": member.status },
    el("td", { text: member.name }),
    el("td", {}, el("span", { class: "availability", "data-status": member.status, "data-testid": "availability", text: labels[member.status] })),
    el("td", { class: full ? "load-full" : "", "data-testid": "load", text: `${member.active} / ${member.capacity}` }),
  );
}

function queueRow(row) {
  return el(
    "tr",
    { "data-testid": "queue-entry", "data-conversation-id": row.id },
    el("td", {}, customer(row)),
    el("td", { "data-testid": "waited", text: minutes(row.waited_seconds) }),
    el("td", {}, slaChip(row.sla)),
  );
}

function riskRow(row) {
  return el(
    "tr",
    { "data-testid": "risk-entry", "data-conversation-id": row.id, "data-level": row.sla.level },
    el("td", {}, customer(row)),
    el("td", { text: labels[row.status] || row.status }),
    el("td", { text: row.operator ? row.operator.name : labels.nobody }),
    el("td", {}, slaChip(row.sla)),
  );
}

function reassignControl(row) {
  const select = el("select", { "data-testid": "reassign-target", "aria-label": labels.reassign });
  select.append(el("option", { value: "", text: labels.choose }));
  for (const member of board.team) {
    if (row.operator && member.id === row.operator.id) continue;
    select.append(el("option", { value: String(member.id), text: `${member.name} (${labels[member.status]}, ${member.active}/${member.capacity})` }));
  }
  select.append(el("option", { value: "queue", text: labels.queue }));
  const button = el("button", { type: "submit", class: "button button-small", "data-testid": "reassign-button", text: labels.reassign });
  const form = el("form", { class: "reassign" }, select, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!select.value) return;
    busy = true;
    button.disabled = true;
    try {
      await postJSON(withId(data.urls.reassign, row.id), { to: select.value === "queue" ? "queue" : Number(select.value) });
      say(labels.done);
    } catch (error) {
      say(`${labels.failed} ${error.message}`);
    } finally {
      busy = false;
      if (document.activeElement) document.activeElement.blur(); // done with the control: redraw it
      await refresh();
    }
  });
  return form;
}

function activeRow(row) {
  return el(
    "tr",
    { "data-testid": "active-entry", "data-conversation-id": row.id, "data-operator-id": row.operator ? row.operator.id : "" },
    el("td", {}, customer(row)),
    el("td", { "data-testid": "holder", text: row.operator ? row.operator.name : labels.nobody }),
    el("td", {}, slaChip(row.sla)),
    el("td", {}, reassignControl(row)),
  );
}

function say(text) {
  const message = document.querySelector('[data-testid="team-message"]');
  message.textContent = text;
  message.hidden = !text;
}

function draw() {
  fill("team-table", board.team.map(teamRow), "");
  fill("queue-table", board.queue.map(queueRow), labels.empty_queue);
  fill("risk-table", board.at_risk.map(riskRow), labels.empty_risk);
  // A control someone is using is not redrawn under their hand.
  const focused = document.activeElement && document.activeElement.closest('[data-testid="active-table"]');
  if (!focused) fill("active-table", board.active.map(activeRow), labels.empty_active);
  document.querySelector('[data-testid="queue-count"]').textContent = String(board.queue.length);
  document.querySelector('[data-testid="team-updated"]').textContent = `${labels.updated} ${clock(board.generated_at)}`;
}

async function refresh() {
  if (busy) return;
  try {
    board = await getJSON(data.urls.board);
    draw();
  } catch {
    say(labels.stale);
  }
}

draw();
setInterval(refresh, data.refresh_seconds * 1000);
