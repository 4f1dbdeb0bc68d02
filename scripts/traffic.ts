// `npm run traffic -- --url <api> --rate 5 --duration 60m`: bounded load against POST <url>/onboard.
// The work is in scripts/traffic/run.ts (runTraffic), which tests drive directly.
import { parseTrafficArgs, TrafficArgError, USAGE } from "./traffic/args";
import { formatSummary, runTraffic } from "./traffic/run";

// `npm run traffic -- --help | head` closes stdout early: that is the reader's choice, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseTrafficArgs(argv);
  } catch (err) {
    if (err instanceof TrafficArgError) {
      process.stderr.write(`traffic: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (options === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  // First Ctrl-C: stop sending, let in-flight requests finish briefly, print the summary. Second: exit now.
  const controller = new AbortController();
  let interrupts = 0;
  process.on("SIGINT", () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write("\ntraffic: interrupted, finishing in-flight requests (Ctrl-C again to quit now)\n");
    controller.abort();
  });
  process.on("SIGTERM", () => controller.abort());

  const summary = await runTraffic(options, { signal: controller.signal, output: process.stderr });
  if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(formatSummary(summary));

  if (summary.stoppedBy === "signal") return 130;
  return summary.sent > 0 && summary.accepted === 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`traffic: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
