/**
 * Fargate task sizes: the CPU units and, per CPU, the memory (MiB) Fargate accepts for Linux tasks.
 * Source: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
function range(fromGb: number, toGb: number, stepGb: number): number[] {
  const out: number[] = [];
  for (let gb = fromGb; gb <= toGb; gb += stepGb) out.push(gb * 1024);
  return out;
}

/** CPU units → allowed memory sizes in MiB. */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1, 4, 1),
  1024: range(2, 8, 1),
  2048: range(4, 16, 1),
  4096: range(8, 30, 1),
  8192: range(16, 60, 4),
  16384: range(32, 120, 8),
};

/** Every CPU value Fargate accepts. */
export const FARGATE_CPUS: readonly number[] = Object.keys(FARGATE_MEMORY_BY_CPU).map(Number);

/** Returns the problems with a CPU/memory pair (empty when Fargate accepts it). */
export function checkFargateSize(cpu: number, memory: number): string[] {
  const allowed = FARGATE_MEMORY_BY_CPU[cpu];
  if (!allowed) {
    return [`Unsupported CPU: ${cpu}. The supported values for CPU are ${FARGATE_CPUS.join(", ")}.`];
  }
  if (!allowed.includes(memory)) {
    return [
      `Unsupported memory: ${memory} MiB for ${cpu} CPU units. The supported values for memory with ${cpu} CPU are ` +
        `${allowed.join(", ")}.`,
    ];
  }
  return [];
}
