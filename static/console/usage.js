// The LINE quota meter supervisors see in the top bar: chargeable messages used this month
// against the plan's limit (warning at 80 %, critical at 95 %), and how many of our messages
// went out free by reply token and how many were paid pushes. From /console/api/line-usage,
// refreshed every few minutes (the server asks LINE at most every 5 minutes).

import { getJSON } from "./api.js";
import { byTestId } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";

const REFRESH_MS = 5 * 60 * 1000;

function describe(usage) {
  const numbers = new Intl.NumberFormat();
  const used = usage.used === null
    ? gettext("LINE quota unknown")
    : usage.limit === null
      ? interpolate(gettext("LINE: %(used)s paid messages this month (no limit)"), { used: numbers.format(usage.used) })
      : interpolate(gettext("LINE: %(used)s of %(limit)s paid messages this month"), {
        used: numbers.format(usage.used), limit: numbers.format(usage.limit),
      });
  const paths = interpolate(gettext("%(free)s free replies · %(paid)s pushes"), {
    free: numbers.format(usage.free_replies), paid: numbers.format(usage.paid_pushes),
  });
  return { used, paths };
}

export function startUsageMeter(url) {
  const meter = byTestId("line-usage");
  if (!meter) return;
  async function refresh() {
    try {
      const usage = await getJSON(url);
      const { used, paths } = describe(usage);
      meter.querySelector("[data-role=usage-used]").textContent = used;
      meter.querySelector("[data-role=usage-paths]").textContent = paths;
      meter.dataset.level = usage.level;
      const bar = meter.querySelector("meter");
      bar.hidden = !usage.limit || usage.used === null;
      if (!bar.hidden) {
        bar.max = usage.limit;
        bar.low = usage.limit * 0.8;
        bar.high = usage.limit * 0.95;
        bar.value = usage.used;
      }
      meter.hidden = false;
    } catch {
      // A supervisor's nicety: the console works without it; the next refresh tries again.
    }
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
}
