// REST calls of the console (session cookie + CSRF token), used for history pages, the list,
// the customer panel, uploads, and as the fallback when the WebSocket cannot connect.

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (typeof body.message === "string" ? body.message : JSON.stringify(body.message))) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "";
    this.body = body;
  }

  /** 4xx: the server understood and said no; retrying the same request will not help. */
  get isRefusal() {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

async function request(method, url, body, { form = false, timeoutMs = 15000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  let payload;
  if (form) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: payload,
      credentials: "same-origin",
      signal: controller.signal,
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  } finally {
    clearTimeout(timer);
  }
}

export const getJSON = (url) => request("GET", url);
export const postJSON = (url, body = {}) => request("POST", url, body);
export const postForm = (url, formData) => request("POST", url, formData, { form: true, timeoutMs: 60000 });

/** URLs from the page come with a 0 where the id goes ("/api/v1/conversations/0/send"). */
export function withId(template, id) {
  return template.replace(/\/0(\/|$)/, `/${id}$1`);
}

export function withQuery(url, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const text = query.toString();
  return text ? `${url}?${text}` : url;
}
