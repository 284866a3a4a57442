// Line icons (24×24, stroke = currentColor), built as SVG elements: no icon font, no emoji font.
const SVG = "http://www.w3.org/2000/svg";

const SHAPES = {
  file: [["path", { d: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" }], ["path", { d: "M14 2v6h6" }]],
  pin: [["path", { d: "M21 10c0 7-9 13-9 13s-9-6-9-13a9 9 0 0 1 18 0z" }], ["circle", { cx: 12, cy: 10, r: 3 }]],
  clock: [["circle", { cx: 12, cy: 12, r: 10 }], ["path", { d: "M12 6v6l4 2" }]],
  check: [["path", { d: "M20 6 9 17l-5-5" }]],
  reply: [["path", { d: "M9 17 4 12l5-5" }], ["path", { d: "M20 18v-2a4 4 0 0 0-4-4H4" }]],
  alert: [["path", { d: "M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z" }], ["path", { d: "M12 9v4M12 17h.01" }]],
  tap: [["path", { d: "M9 11V5a2 2 0 0 1 4 0v5" }], ["path", { d: "M13 10a2 2 0 0 1 4 0v1a2 2 0 0 1 4 0v4a7 7 0 0 1-7 7h-1a7 7 0 0 1-6-3.4L4 15.5a2 2 0 0 1 3.4-2.1L9 15" }]],
};

export function icon(name, size = 14) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({
    viewBox: "0 0 24 24", width: size, height: size, fill: "none", stroke: "currentColor",
    "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon",
  })) svg.setAttribute(key, String(value));
  for (const [tag, attrs] of SHAPES[name] || []) {
    const shape = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) shape.setAttribute(key, String(value));
    svg.append(shape);
  }
  return svg;
}
