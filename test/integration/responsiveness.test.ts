/**
 * A long verifyChain must not hold the event loop: the SQLite adapter answers synchronously,
 * so without explicit yields a 1M-record walk starved every other request for its whole
 * length. Counted deterministically with setImmediate ticks, not with timings.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTrace } from "../../src/chain/trace.js";
import { VerifyChainDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";

const RECORDS = 10_000;

describe.each(BACKENDS)("$name: verifyChain yields to other work", (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    const traces = Array.from({ length: RECORDS }, (_, i) =>
      encodeTrace({
        actionId: `r-${i}`, capabilityId: "c", principalId: `p${i % 10}`, tokenId: "", invokedAtUs: 1_767_225_600_000_000 + i,
        responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: "invoke",
        reasonCode: null, error: null, args: {}, resultSummary: null,
      }),
    );
    for (let i = 0; i < RECORDS; i += 2_000) await gw.stores.traces.append(traces.slice(i, i + 2_000));
  });
  afterAll(() => gw.close());

  it("lets the event loop turn while it walks the chain", async () => {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const result = dataOf(await gw.exec(VerifyChainDocument, {})).verifyChain;
    running = false;
    expect(result).toMatchObject({ ok: true, checked: RECORDS });
    // One scan batch is 2,000 records: at least one turn of the loop per batch.
    expect(ticks).toBeGreaterThanOrEqual(RECORDS / 2_000);
  });
});
