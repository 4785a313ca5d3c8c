/**
 * The key order of parsed JSON objects as their text had it. JavaScript lists an object's
 * array-index keys ("0", "17") before its other keys whatever the text said, while Python's
 * dicts keep insertion order, so `json.dumps(json.loads(text))` and pythonJsonDumps of a
 * parsed text can differ. withDocumentKeyOrder records the text's order on the objects; the
 * serializers that keep insertion order (./json.ts pythonJsonDumps, src/export/formats.ts
 * pythonJsonIndent) follow it through keysInOrder.
 */
import type { JsonValue } from "./json.js";

/**
 * The key order of a parsed object as its JSON text had it, when it differs from the object's
 * own: JavaScript lists array-index keys ("0", "17") first whatever the text said, Python's
 * dicts keep insertion order. Set by withDocumentKeyOrder; honoured by the serializers that
 * keep insertion order (pythonJsonDumps, and pythonJsonIndent in src/export/formats.ts), never
 * by the canonical (sorted) form the chain hashes. A symbol: invisible to Object.keys and to
 * every other serializer.
 */
export const KEY_ORDER: unique symbol = Symbol("tracegate.keyOrder");

/** The keys of `obj` in its document order (see KEY_ORDER), else in its own order. */
export function keysInOrder(obj: object): string[] {
  return (obj as { [KEY_ORDER]?: string[] })[KEY_ORDER] ?? Object.keys(obj);
}

/** A key V8 orders before the others: a canonical array index ("0" .. "4294967294"). */
const INDEX_KEY = /"(?:0|[1-9]\d{0,9})"\s*:/;

/** Whether a JSON text may hold a key whose order a parsed object loses (see KEY_ORDER). */
export function hasIndexKey(text: string): boolean {
  return INDEX_KEY.test(text);
}

/**
 * Record on every object of `value` (parsed from `text`, e.g. by parseJsonLossless) the key
 * order `text` gave it, so that pythonJsonDumps writes the keys as Python's `json.dumps` of
 * `json.loads(text)` would (a repeated key keeps its first position, with its last value, as a
 * Python dict does). Only done when the text has a key that looks like an array index, the
 * only case where the orders differ. Returns `value`.
 */
export function withDocumentKeyOrder<T extends JsonValue>(value: T, text: string): T {
  if (!INDEX_KEY.test(text)) return value;
  const attach = (v: JsonValue | undefined, shape: Shape): void => {
    if (Array.isArray(v)) {
      if (Array.isArray(shape)) v.forEach((item, i) => attach(item, shape[i] ?? null));
    } else if (v !== null && typeof v === "object" && shape !== null && !Array.isArray(shape)) {
      if (shape.keys.length !== Object.keys(v).length || !shape.keys.every((k) => Object.hasOwn(v, k))) return;
      Object.defineProperty(v, KEY_ORDER, { value: shape.keys, enumerable: false });
      for (const k of shape.keys) attach(v[k], shape.children.get(k) ?? null);
    }
  };
  attach(value, shapeOf(text));
  return value;
}

/** The structure of a JSON text: each object's keys in first-seen order, each array's items; null for scalars. */
type Shape = null | Shape[] | { keys: string[]; children: Map<string, Shape> };

/** The Shape of a JSON text already known to be valid (it was parsed). */
function shapeOf(text: string): Shape {
  let i = 0;
  const space = () => {
    while (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r") i++;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): Shape => {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      const keys: string[] = [];
      const children = new Map<string, Shape>();
      space();
      if (text[i] === "}") {
        i++;
        return { keys, children };
      }
      for (;;) {
        space();
        const key = string();
        space();
        i++; // ":"
        const child = value();
        if (!children.has(key)) keys.push(key);
        children.set(key, child);
        space();
        if (text[i++] !== ",") return { keys, children };
      }
    }
    if (c === "[") {
      i++;
      const items: Shape[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return items;
      }
      for (;;) {
        items.push(value());
        space();
        if (text[i++] !== ",") return items;
      }
    }
    if (c === '"') {
      string();
      return null;
    }
    // A number, true, false, null, NaN, Infinity or -Infinity.
    while (i < text.length && !",]} \t\n\r".includes(text[i]!)) i++;
    return null;
  };
  return value();
}

