/** The GraphQL schema: imports every type module, exports `schema`. Nothing else. */
import { builder } from "./builder.js";
import "./types/scalars.js";
import "./types/enums.js";
import "./types/Trace.js";
import "./types/Chain.js";
import "./types/ApiKey.js";
import "./types/Revocation.js";
import "./types/Checkpoint.js";
import "./types/Retention.js";
import "./types/TraceStream.js";
import "./types/TraceStats.js";

export const schema = builder.toSchema({ sortSchema: true });
