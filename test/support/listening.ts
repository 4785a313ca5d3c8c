/**
 * Gateways on real sockets for the tests of one file: started on an ephemeral port, stopped
 * and closed after the file's tests (transports are compared over the wire, not in process).
 */
import { afterAll } from "vitest";
import { createTestGateway, type GatewayOptions, type TestGateway } from "./harness.js";

export interface Listening {
  gw: TestGateway;
  /** The GraphQL endpoint, http://127.0.0.1:<port>/graphql. */
  url: string;
}

/** A starter of listening gateways; call it at the top level of a test file (it registers the afterAll). */
export function listeningGateways(): (options?: GatewayOptions) => Promise<Listening> {
  const started: Listening[] = [];
  afterAll(async () => {
    for (const { gw } of started) {
      await gw.app.stop();
      await gw.close();
    }
  });
  return async (options = {}) => {
    const gw = await createTestGateway(options);
    const { port } = await gw.app.start(0);
    const s = { gw, url: `http://127.0.0.1:${port}/graphql` };
    started.push(s);
    return s;
  };
}
