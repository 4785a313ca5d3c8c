/**
 * How much CPU other processes used while a benchmark ran (Linux /proc/stat minus this
 * process's own CPU time), so results taken on a busy machine are recognisable as such.
 */
import { readFileSync } from "node:fs";

/** USER_HZ: /proc/stat counts in 1/100 s on Linux. */
const TICKS_PER_SEC = 100;

export interface CpuMark {
  busyTicks: number | null;
  selfUs: number;
  at: number;
}

function busyTicks(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return user + nice + system + irq + softirq + steal;
  } catch {
    return null;
  }
}

export function cpuMark(): CpuMark {
  const u = process.cpuUsage();
  return { busyTicks: busyTicks(), selfUs: u.user + u.system, at: performance.now() };
}

/** Average number of cores other processes kept busy since `mark` (null off Linux). */
export function othersCores(mark: CpuMark): number | null {
  const now = cpuMark();
  if (mark.busyTicks === null || now.busyTicks === null) return null;
  const seconds = (now.at - mark.at) / 1000;
  if (seconds <= 0) return null;
  const allCores = (now.busyTicks - mark.busyTicks) / TICKS_PER_SEC / seconds;
  const selfCores = (now.selfUs - mark.selfUs) / 1e6 / seconds;
  return Math.max(0, allCores - selfCores);
}
