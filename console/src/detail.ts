/**
 * One trace in full: whether it verifies, its fields (with one-click pivots to the explorer
 * on its principal, capability and reason code), where it sits in the chain (seq, prevHash,
 * recordHash, with copy buttons), its args and result summary, the canonical payload the
 * hash covers, and its OCSF event.
 */
import { ConsoleTraceDocument, type ConsoleTraceQuery, ConsoleVerifyTraceDocument, type VerificationFailureKind } from "../gql/graphql.js";
import { ApiError, describeFailure, request } from "./api.js";
import { type Child, fill, h, prettyJson } from "./dom.js";
import { verdictHeadline } from "./integrity.js";
import { KIND_MEANING } from "./verify.js";
import { timeElement } from "./time.js";

type Trace = NonNullable<ConsoleTraceQuery["trace"]>;

/** The explorer filter fields a detail view pivots on. */
export type PivotField = "principalId" | "capabilityId" | "reasonCode";

export interface TraceViewOptions {
  key: string;
  heading: HTMLElement;
  container: HTMLElement;
  onUnauthenticated: (error: ApiError) => void;
  /** Show the explorer filtered on one field's value. */
  pivot: (field: PivotField, value: string) => void;
}

const field = (name: string, value: Child, ...extra: Child[]) => [
  h("dt", {}, name),
  h("dd", {}, value === "" ? h("span", { class: "muted" }, "(empty)") : value, ...extra),
];

const block = (title: string, id: string, body: string) =>
  h("section", { class: "json-block", "aria-labelledby": id }, h("h3", { id }, title), h("pre", { tabindex: 0 }, h("code", {}, body)));

/** A button copying `value` to the clipboard; says so in its text and to screen readers. */
function copyButton(what: string, value: string): HTMLButtonElement {
  const button: HTMLButtonElement = h(
    "button",
    {
      type: "button",
      class: "copy secondary",
      "aria-label": `Copy ${what}`,
      "data-copy": value,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(value);
          button.textContent = "Copied";
          button.setAttribute("aria-label", `Copied ${what}`);
        } catch (e) {
          button.textContent = "Copy failed";
          button.title = (e as Error).message;
        }
        setTimeout(() => {
          button.textContent = "Copy";
          button.setAttribute("aria-label", `Copy ${what}`);
        }, 2_000);
      },
    },
    "Copy",
  );
  return button;
}

const NAMES: Record<PivotField, string> = { principalId: "principal", capabilityId: "capability", reasonCode: "reason code" };

function pivotButton(fieldName: PivotField, value: string, pivot: TraceViewOptions["pivot"]): HTMLButtonElement {
  return h(
    "button",
    { type: "button", class: "pivot secondary", "aria-label": `Filter on this ${NAMES[fieldName]}: ${value}`, onclick: () => pivot(fieldName, value) },
    "Filter on this",
  );
}

function render(trace: Trace, pivot: TraceViewOptions["pivot"]): HTMLElement[] {
  return [
    h(
      "dl",
      { class: "fields" },
      ...field("Seq", String(trace.seq)),
      ...field("Action id", h("code", {}, trace.actionId), " ", copyButton("action id", trace.actionId)),
      ...field("Invoked at", timeElement(trace.invokedAt)),
      ...field("Event", trace.eventType),
      ...field("Outcome", trace.outcome),
      ...field("Principal", trace.principalId, " ", pivotButton("principalId", trace.principalId, pivot)),
      ...field("Capability", h("code", {}, trace.capabilityId), " ", pivotButton("capabilityId", trace.capabilityId, pivot)),
      ...field("Reason code", trace.reasonCode ?? "—", trace.reasonCode ? " " : null, trace.reasonCode ? pivotButton("reasonCode", trace.reasonCode, pivot) : null),
      ...field("Error", trace.error ?? "—"),
      ...field("Token", trace.tokenId, trace.tokenId ? " " : null, trace.tokenId ? copyButton("token id", trace.tokenId) : null),
      ...field("Driver", trace.driverId),
      ...field("Handle", trace.handleId ?? "—"),
      ...field("Response mode", trace.responseMode),
      ...field("Sensitivity", trace.sensitivity),
      ...field("Redactions", trace.redactions.length ? trace.redactions.map((r) => `${r.path} (${r.kind})`).join(", ") : "none"),
    ),
    h(
      "section",
      { "aria-labelledby": "hashes-heading" },
      h("h3", { id: "hashes-heading" }, "Hashes"),
      h(
        "dl",
        { class: "fields hashes" },
        ...field("prevHash", h("code", {}, trace.prevHash), " ", copyButton("prevHash", trace.prevHash)),
        ...field("recordHash", h("code", {}, trace.recordHash), " ", copyButton("recordHash", trace.recordHash)),
      ),
      h("p", { class: "muted" }, 'recordHash = HMAC-SHA256(secret, \'{"prev_hash":"<prevHash>","seq":<seq>,"trace":\' + payload + "}")'),
    ),
    block("Args", "args-heading", prettyJson(trace.args)),
    block("Result summary", "summary-heading", trace.resultSummary === null ? "null" : prettyJson(trace.resultSummary)),
    block("Payload (canonical JSON, as hashed)", "payload-heading", trace.payload),
    block("OCSF 1.3.0 API Activity", "ocsf-heading", prettyJson(trace.ocsf)),
  ];
}

/** The verdict on one record, as the integrity box shows it. */
interface Verdict {
  ok: boolean;
  kind: VerificationFailureKind | null;
  /** The seq the failure was found at (this record or a neighbour). */
  badSeq: number | null;
  detail: string;
  /** What was checked, in words. */
  scope: string;
}

/**
 * Verify the record where it stands with verifyTrace: its link to the record before it, its
 * recomputed HMAC, its indexed columns against its payload, and the next record's link to
 * it (so a record replaced in place under the secret still shows, as a BROKEN_LINK at the
 * next seq). Open to principal-scoped keys; null when the record is not visible any more.
 */
async function verifyRecord(trace: Trace, key: string): Promise<Verdict | null> {
  const { verifyTrace: v } = await request(ConsoleVerifyTraceDocument, { actionId: trace.actionId }, key);
  if (!v) return null;
  return {
    ok: v.ok,
    kind: v.kind ?? null,
    badSeq: v.firstBadSeq,
    detail: v.detail,
    scope: `seq ${trace.seq}: its link to the record before it, its HMAC, its indexed columns, and the next record's link to it`,
  };
}

function showVerdict(box: HTMLElement, trace: Trace, verdict: Verdict): void {
  box.dataset.state = verdict.ok ? "ok" : "failed";
  fill(
    box,
    verdict.ok
      ? h("p", { class: "verdict ok" }, h("span", { "aria-hidden": "true" }, "✔ "), "Record intact: its HMAC recomputes and its links hold.")
      : h(
          "p",
          { class: "verdict bad" },
          h("span", { "aria-hidden": "true" }, "✘ "),
          "Verification failed: ",
          h("strong", { class: "kind" }, verdict.kind ?? "UNKNOWN"),
          ` ${verdictHeadline(verdict.kind, verdict.badSeq, trace.seq)}.`,
        ),
    h(
      "dl",
      { class: "fields" },
      h("dt", {}, "Result"),
      h("dd", { class: "ok-value" }, verdict.ok ? "ok" : "failed"),
      verdict.kind ? h("dt", {}, "Kind") : null,
      verdict.kind ? h("dd", {}, verdict.kind, " — ", KIND_MEANING[verdict.kind]) : null,
      h("dt", {}, "Detail"),
      h("dd", { class: "detail" }, verdict.detail),
      h("dt", {}, "Checked"),
      h("dd", {}, verdict.scope),
    ),
  );
}

async function verifyInto(box: HTMLElement, trace: Trace, options: TraceViewOptions): Promise<void> {
  box.dataset.state = "running";
  fill(box, h("p", {}, "Verifying this record…"));
  try {
    const verdict = await verifyRecord(trace, options.key);
    if (verdict) showVerdict(box, trace, verdict);
    else {
      box.dataset.state = "error";
      fill(box, h("p", { class: "error" }, `No trace has action id “${trace.actionId}” any more (or it is outside this key's principals): nothing to verify.`));
    }
  } catch (e) {
    box.dataset.state = "error";
    fill(box, h("p", { class: "error" }, `Could not verify: ${describeFailure(e)}`));
    if (e instanceof ApiError && e.kind === "UNAUTHENTICATED") options.onUnauthenticated(e);
  }
}

/** Increases with every trace shown: a slow answer for a trace left behind draws nothing. */
let shown = 0;

/** Show the trace with this action id, with its verification. */
export async function showTrace(actionId: string, options: TraceViewOptions): Promise<void> {
  const { heading, container } = options;
  const generation = ++shown;
  heading.textContent = `Trace ${actionId}`;
  fill(container, h("p", { role: "status" }, "Loading…"));
  try {
    const { trace } = await request(ConsoleTraceDocument, { actionId }, options.key);
    if (generation !== shown) return;
    if (!trace) {
      fill(container, h("p", { role: "status" }, `No trace has action id “${actionId}” (or it is outside this key's principals).`));
      return;
    }
    const box = h("div", { id: "trace-integrity", class: "verify-result", "aria-live": "polite" });
    fill(
      container,
      h("section", { "aria-labelledby": "integrity-heading" }, h("h3", { id: "integrity-heading" }, "Integrity"), box),
      ...render(trace, options.pivot),
    );
    await verifyInto(box, trace, options);
  } catch (e) {
    if ((e as ApiError).kind === "UNAUTHENTICATED") options.onUnauthenticated(e as ApiError);
    if (generation !== shown) return;
    fill(container, h("p", { role: "alert", class: "error" }, describeFailure(e)));
  }
}
