/**
 * Building DOM without innerHTML: every value from the gateway (principal ids, errors,
 * payloads) is attacker-influenced, so it only ever becomes text nodes or attribute values.
 */
import { stringify as losslessStringify } from "lossless-json";

/** What h() accepts as a child: nodes, text (numbers too), and nothing. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes (string/number; true = present, false/undefined = absent) and `on<event>` listeners. */
export type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

function apply(el: Element, props: Props, children: Child[]): void {
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "number" ? String(child) : child);
  }
}

/** An HTML element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, props, children);
  return el;
}

/** An SVG element (attributes, not styles: the CSP allows no inline style). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  apply(el, props, children);
  return el;
}

/** The element with this id, checked to be of the expected class (fails loudly if the page changed). */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return el;
}

/** Replace an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  apply(el, {}, children);
}

/**
 * Pretty JSON for display in a <pre>, numbers exactly as the gateway sent them: values read by
 * readJson (api.ts) keep lexemes such as 100.0 and 750727362669608961 as LosslessNumbers,
 * which lossless-json writes back verbatim (JSON.stringify would print 100 and 750727362669609000).
 */
export function prettyJson(value: unknown): string {
  return losslessStringify(value, null, 2) ?? "null";
}
