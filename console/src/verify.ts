/**
 * The verify panel: run verifyChain (whole chain or a seq range) and say plainly whether
 * the chain is intact, and if not, what kind of damage starts at which seq.
 */
import { ConsoleVerifyChainDocument, type ConsoleVerifyChainQueryVariables, type VerificationFailureKind } from "../gql/graphql.js";
import { type ApiError, describeFailure, request } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { recordVerification } from "./integrity.js";
import { timeElement } from "./time.js";

/** What each failure kind means (the schema's descriptions). */
export const KIND_MEANING: Record<VerificationFailureKind, string> = {
  BROKEN_LINK: "A record's prevHash is not the previous record's hash (records swapped or re-linked).",
  CHECKPOINT_INVALID: "A retention or signed checkpoint does not authenticate.",
  COLUMN_MISMATCH: "An indexed column differs from the hashed payload: a query column was edited, so filters would lie.",
  MUTATED: "A record's content does not match its HMAC: it was edited (or the server verifies with another secret).",
  NON_CONTIGUOUS: "A seq is missing, repeated or out of order: a record was deleted, inserted or moved.",
  TRUNCATED: "Records the chain head vouches for are missing from the end.",
};

const seqInput = (id: string) => {
  const value = byId(id, HTMLInputElement).value.trim();
  return value === "" ? undefined : Number(value);
};

export function setUpVerify(key: () => string, onUnauthenticated: (error: ApiError) => void): void {
  const form = byId("verify-form", HTMLFormElement);
  const result = byId("verify-result", HTMLElement);
  const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const variables: ConsoleVerifyChainQueryVariables = {};
    const fromSeq = seqInput("v-from");
    const toSeq = seqInput("v-to");
    if (fromSeq !== undefined) variables.fromSeq = fromSeq;
    if (toSeq !== undefined) variables.toSeq = toSeq;
    button.disabled = true;
    result.dataset.state = "running";
    fill(result, h("p", {}, "Verifying… every record's HMAC is recomputed, so a long chain takes a while."));
    try {
      const { verifyChain: v, chainHead } = await request(ConsoleVerifyChainDocument, variables, key());
      result.dataset.state = v.ok ? "ok" : "failed";
      const now = new Date().toISOString();
      const checkedAt = timeElement(now);
      // The explorer marks its rows from this run. An intact run vouches for the records it
      // checked; a broken one for those before the first bad seq.
      const from = fromSeq ?? 0;
      recordVerification({
        ok: v.ok,
        fromSeq: from,
        toSeq: v.ok ? from + v.checked - 1 : (toSeq ?? chainHead.nextSeq - 1),
        firstBadSeq: v.firstBadSeq,
        kind: v.kind ?? null,
        detail: v.detail,
        at: now,
      });
      fill(
        result,
        v.ok
          ? h("p", { class: "verdict ok" }, h("span", { "aria-hidden": "true" }, "✔ "), `Chain intact: ${v.checked} record(s) verified.`)
          : h(
              "p",
              { class: "verdict bad" },
              h("span", { "aria-hidden": "true" }, "✘ "),
              "Chain broken: ",
              h("strong", { class: "kind" }, v.kind ?? "UNKNOWN"),
              v.firstBadSeq === null ? "" : " at seq ",
              v.firstBadSeq === null ? "" : h("strong", { class: "first-bad-seq" }, String(v.firstBadSeq)),
            ),
        h(
          "dl",
          { class: "fields" },
          h("dt", {}, "Result"),
          h("dd", { class: "ok-value" }, v.ok ? "ok" : "failed"),
          h("dt", {}, "Kind"),
          h("dd", {}, v.kind ?? "—"),
          h("dt", {}, "First bad seq"),
          h("dd", {}, v.firstBadSeq === null ? "—" : String(v.firstBadSeq)),
          h("dt", {}, "Checked"),
          h("dd", {}, String(v.checked)),
          h("dt", {}, "Detail"),
          h("dd", { class: "detail" }, v.detail),
          v.kind ? h("dt", {}, "What it means") : null,
          v.kind ? h("dd", {}, KIND_MEANING[v.kind]) : null,
          h("dt", {}, "Chain head"),
          h("dd", {}, `next seq ${chainHead.nextSeq}, head hash `, h("code", {}, chainHead.headHash)),
          h("dt", {}, "Verified at"),
          h("dd", {}, checkedAt),
        ),
      );
    } catch (e) {
      result.dataset.state = "error";
      fill(result, h("p", { class: "error", role: "alert" }, describeFailure(e)));
      if ((e as ApiError).kind === "FORBIDDEN") {
        result.append(h("p", { class: "muted" }, "verifyChain needs the traces:read scope on a key that is not confined to some principals."));
      }
      if ((e as ApiError).kind === "UNAUTHENTICATED") onUnauthenticated(e as ApiError);
    } finally {
      button.disabled = false;
    }
  });
}
