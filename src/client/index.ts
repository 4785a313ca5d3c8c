/**
 * tracegate's client entry point: import from here rather than from ./emitter.js or ./api.js,
 * so the emitter's internals can move without breaking callers. Dependency-free (global fetch).
 *
 *   import { createTraceEmitter } from "tracegate/client";           // via package.json "exports"
 *   import { createTraceEmitter } from "./src/client/index.js";      // inside this repository
 */
export { createTraceEmitter } from "./emitter.js";
export {
  TraceEmitterError,
  type DropReason,
  type EmitTrace,
  type RetryOptions,
  type TraceEmitter,
  type TraceEmitterOptions,
  type TraceEmitterStats,
  type TraceEventType,
  type TraceResponseMode,
  type TraceSensitivity,
} from "./api.js";
