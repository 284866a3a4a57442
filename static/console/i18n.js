// Translations come from Django's JavaScriptCatalog (/jsi18n/, loaded before the modules).
// Strings are marked with gettext()/ngettext() so `makemessages -d djangojs` finds them.

export function gettext(text) {
  return typeof window.gettext === "function" ? window.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (typeof window.ngettext === "function") return window.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/** "%(name)s is typing" + {name: "Nok"} → "Nok is typing". */
export function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_match, key) => String(values[key] ?? ""));
}
