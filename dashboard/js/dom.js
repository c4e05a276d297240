// Tiny DOM helpers: build elements declaratively, empty a node.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  return node;
}

/** Create an HTML element with attributes (`text`, `onclick`...) and children. */
export function el(tag, attrs, ...children) {
  const node = apply(document.createElement(tag), attrs);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/** Create an SVG element with attributes and children. */
export function svg(tag, attrs, ...children) {
  const node = apply(document.createElementNS(SVG_NS, tag), attrs);
  node.append(...children.flat().filter(Boolean));
  return node;
}

/** Replace every child of `node` with `children`. */
export function replace(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

/** Format an integer with thousands separators. */
export function num(value) {
  return Number(value || 0).toLocaleString("en-US");
}
