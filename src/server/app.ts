/**
 * The gateway as a factory (STYLE.md 8): buildApp(deps) returns the yoga instance for
 * in-process tests and `start`/`stop` for a real HTTP server.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { RecordHasher } from "../chain/hash.js";
import { schema } from "../schema/index.js";
import type { Stores } from "../stores/index.js";
import type { GatewayContext } from "./context.js";
import type { Logger } from "./logger.js";
import { createErrorMasker } from "./mask-errors.js";

/** What the gateway needs: opened stores, the chain hasher, a logger. */
export interface AppDeps {
  stores: Stores;
  hash: RecordHasher;
  logger: Logger;
  /** Serve GraphiQL at the GraphQL path (development). */
  graphiql?: boolean;
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, GatewayContext>;
  /** Listen on port (0 = ephemeral) and host; resolves with the bound address. */
  start(port: number, host?: string): Promise<AddressInfo>;
  /** Stop accepting, close open connections and wait for the server to close. */
  stop(): Promise<void>;
}

export function buildApp(deps: AppDeps): App {
  const context: GatewayContext = { stores: deps.stores, hash: deps.hash };
  const yoga = createYoga<Record<string, never>, GatewayContext>({
    schema,
    context: () => context,
    graphiql: deps.graphiql ?? false,
    // GraphiQL from the installed package, not from a CDN: it works on offline networks.
    renderGraphiQL,
    maskedErrors: { maskError: createErrorMasker(deps.logger) },
    logging: {
      debug: (...args) => deps.logger.debug(args.map(String).join(" ")),
      info: (...args) => deps.logger.info(args.map(String).join(" ")),
      warn: (...args) => deps.logger.warn(args.map(String).join(" ")),
      // yoga reports every resolver error here, client mistakes included; genuinely
      // unexpected ones are logged by the error masker with their errorId.
      error: (...args) => deps.logger.debug(args.map(String).join(" ")),
    },
    landingPage: false,
  });
  let server: Server | undefined;
  return {
    yoga,
    start(port, host = "127.0.0.1") {
      server = createServer(yoga);
      const s = server;
      return new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => resolve(s.address() as AddressInfo));
      });
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
