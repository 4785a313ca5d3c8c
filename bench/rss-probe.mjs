// Preloaded by bench/cli.ts into each process it times: at exit, writes the process's peak
// resident set (KiB, process.resourceUsage().maxRSS) to file descriptor 3.
import { writeSync } from "node:fs";

process.on("exit", () => {
  try {
    writeSync(3, String(process.resourceUsage().maxRSS));
  } catch {
    // No fd 3: started by something other than the bench.
  }
});
