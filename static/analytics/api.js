// The analytics API (/api/v1/analytics/…, PRODUCT §10): GET with the period's query parameters.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The query parameters every endpoint takes, for a period and the business-hours switch. */
export function periodParams(range, businessHours) {
  const params = { start: range.start, end: range.end };
  if (businessHours) params.business_hours = "1";
  return params;
}

export async function getJson(root, endpoint, params) {
  const url = new URL(`${root}${endpoint}`, window.location.origin);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.message) message = body.message;
    } catch {
      // not JSON (a proxy's error page): the status line says enough
    }
    throw new ApiError(response.status, message);
  }
  return response.json();
}
