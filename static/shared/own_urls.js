// An image URL the app gave LINE (always https) for one of its own files, as a page of the app
// should load it: by its path, so that a development server without TLS still shows it.
// Shared by the console and the simulator's phone page.

export function shown(url) {
  if (!url) return url;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.host === window.location.host ? parsed.pathname + parsed.search : url;
  } catch {
    return url;
  }
}
