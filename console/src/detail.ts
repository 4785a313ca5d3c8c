/**
 * One trace in full: its fields, where it sits in the chain (seq, prevHash, recordHash),
 * its args and result summary, the canonical payload the hash covers, and its OCSF event.
 */
import { ConsoleTraceDocument, type ConsoleTraceQuery } from "../gql/graphql.js";
import { type ApiError, describeFailure, request } from "./api.js";
import { type Child, fill, h, prettyJson } from "./dom.js";
import { timeElement } from "./time.js";

type Trace = NonNullable<ConsoleTraceQuery["trace"]>;

const field = (name: string, value: Child) => [h("dt", {}, name), h("dd", {}, value === "" ? h("span", { class: "muted" }, "(empty)") : value)];

const block = (title: string, id: string, body: string) =>
  h("section", { class: "json-block", "aria-labelledby": id }, h("h3", { id }, title), h("pre", { tabindex: 0 }, h("code", {}, body)));

function render(trace: Trace): HTMLElement[] {
  return [
    h(
      "dl",
      { class: "fields" },
      ...field("Seq", String(trace.seq)),
      ...field("Invoked at", timeElement(trace.invokedAt)),
      ...field("Event", trace.eventType),
      ...field("Outcome", trace.outcome),
      ...field("Principal", trace.principalId),
      ...field("Capability", h("code", {}, trace.capabilityId)),
      ...field("Reason code", trace.reasonCode ?? "—"),
      ...field("Error", trace.error ?? "—"),
      ...field("Token", trace.tokenId),
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
        ...field("prevHash", h("code", {}, trace.prevHash)),
        ...field("recordHash", h("code", {}, trace.recordHash)),
      ),
      h("p", { class: "muted" }, 'recordHash = HMAC-SHA256(secret, \'{"prev_hash":"<prevHash>","seq":<seq>,"trace":\' + payload + "}")'),
    ),
    block("Args", "args-heading", prettyJson(trace.args)),
    block("Result summary", "summary-heading", trace.resultSummary === null ? "null" : prettyJson(trace.resultSummary)),
    block("Payload (canonical JSON, as hashed)", "payload-heading", trace.payload),
    block("OCSF 1.3.0 API Activity", "ocsf-heading", prettyJson(trace.ocsf)),
  ];
}

/** Show the trace with this action id in `container`, titled in `heading`. */
export async function showTrace(
  actionId: string,
  key: string,
  heading: HTMLElement,
  container: HTMLElement,
  onUnauthenticated: (error: ApiError) => void,
): Promise<void> {
  heading.textContent = `Trace ${actionId}`;
  fill(container, h("p", { role: "status" }, "Loading…"));
  try {
    const { trace } = await request(ConsoleTraceDocument, { actionId }, key);
    if (!trace) {
      fill(container, h("p", { role: "status" }, `No trace has action id “${actionId}” (or it is outside this key's principals).`));
      return;
    }
    fill(container, ...render(trace));
  } catch (e) {
    fill(container, h("p", { role: "alert", class: "error" }, describeFailure(e)));
    if ((e as ApiError).kind === "UNAUTHENTICATED") onUnauthenticated(e as ApiError);
  }
}
