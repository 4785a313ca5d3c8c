/**
 * GET /.well-known/tracegate/checkpoint-key: the public key that verifies signed checkpoints,
 * as JSON {keyId, algorithm, publicKeyPem}. Public on purpose (no API key): anyone holding a
 * checkpoint must be able to fetch the key to check it. Answered in onRequest, before the
 * guard and the GraphQL pipeline ever see the request.
 */
import type { Plugin } from "graphql-yoga";
import { CHECKPOINT_KEY_PATH, type CheckpointSigner, checkpointKeyDocument } from "../app/signing-key.js";


/** Serve the checkpoint public-key document (404 JSON without a signer). */
export function wellKnownPlugin(signer: CheckpointSigner | undefined): Plugin {
  const document = checkpointKeyDocument(signer);
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== CHECKPOINT_KEY_PATH) return;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        endResponse(
          new fetchAPI.Response(request.method === "HEAD" ? null : JSON.stringify(body), {
            status,
            headers: { "content-type": "application/json; charset=utf-8", ...headers },
          }),
        );
      if (request.method !== "GET" && request.method !== "HEAD") {
        json(405, { error: "Method not allowed: use GET." }, { allow: "GET, HEAD" });
      } else if (!document) {
        json(404, { error: "This server has no checkpoint signing key configured." });
      } else {
        json(200, document, { "cache-control": "public, max-age=300" });
      }
    },
  };
}
