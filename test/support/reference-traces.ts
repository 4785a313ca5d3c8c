/**
 * Traces as weaver-kernel exports them (docs/reference-compatibility.md#the-16-keys), written
 * as JSON *text* so that numbers keep the lexemes Python must see (100.0 is a float, 2**64+1 an
 * exact int). Used by the tests that write reference stores with
 * test/support/reference-writer.py.
 */

/** Args that trip naive JSON handling: floats, big ints, escapes, astral and lone surrogates, key case. */
export const TRICKY_ARGS = String.raw`{"f": 100.0, "big": 18446744073709551617, "text": "\u00e9\u2028\u0000", "rocket": "\ud83d\ude80",
  "lone": "\ud800", "del": "a\u007fb", "Alpha": 1, "alpha": 2, "neg": -0.0, "tiny": 1e-07, "huge": 1e+22, "q": "\"\\/",
  "nested": {"z": [1, 2.5, {"\u00e9": null, "\ud83d\ude80": "astral key", "\uffff": "bmp key"}], "a": true}}`;

/** Args with a key that is not a GraphQL name next to a float (the old shipper stopped on it). */
export const HEADER_ARGS = String.raw`{"content-type": "application/json", "timeout": 30.0}`;

/**
 * Args of the kind the reference's own tests use: non-ASCII and astral characters, quotes, a
 * backslash, tab, newline and DEL, the floats 100.0, 1e-07, 1e+22 and -0.0, the int 2**60,
 * keys Alpha/alpha, a non-ASCII key and a lone surrogate (a string cut inside an emoji).
 */
export const MIXED_ARGS = String.raw`{"text": "caf\u00e9 \ud83d\ude80 \"q\" back\\slash\ttab\nnl del\u007f", "f": 100.0, "tiny": 1e-07,
  "huge": 1e+22, "neg": -0.0, "big": 1152921504606846976, "Alpha": 1, "alpha": 2, "\u00e9t\u00e9": "non-ASCII key",
  "rocket": "rocket \ud83d", "nested": {"list": [1, 2.5, null, true, {"\ud83d\ude80": "astral key"}]}}`;

/** The JSON text of one export object; `i` varies capability, principal and sensitivity; `argsText` is spliced in verbatim. */
export function referenceTraceText(id: string, i: number, invokedAt: string, overrides: Record<string, unknown> = {}, argsText = "{}"): string {
  const t = {
    action_id: id,
    capability_id: i % 2 ? "crm.contacts.read" : "billing.invoices.write",
    principal_id: i % 3 ? "team-a/agent" : "\u00e9l\u00e8ve",
    token_id: "",
    invoked_at: invokedAt,
    response_mode: "summary",
    driver_id: "memory",
    handle_id: null,
    sensitivity: i % 2 ? "PII" : "NONE",
    status: "succeeded",
    event_type: "invoke",
    reason_code: null,
    error: null,
    args: "__ARGS__",
    result_summary: { fact_count: 1, row_count: 2, warning_count: 0, has_handle: false },
    correction: null,
    ...overrides,
  };
  return JSON.stringify(t).replace('"__ARGS__"', argsText);
}
