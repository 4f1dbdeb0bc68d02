/**
 * `npm run check:policy`: runs the stack program under mocks as a preview and as an update, applies every rule and
 * prints the report. Exits 1 when any rule fails (or the program cannot run), 0 otherwise.
 * `--rules-table` prints the rules as the markdown table of policy/README.md instead.
 */
import { evaluate, formatReport, rulesTable } from "./evaluate";
import { runStack, STACK } from "./stack-run";

async function main(): Promise<void> {
  if (process.argv.includes("--rules-table")) {
    console.log(rulesTable());
    return;
  }
  const runs = await runStack();
  const results = evaluate(runs);
  console.log(
    formatReport(
      results,
      `Policy report for stack "${STACK}" (program run under mocks: ${runs.update.length} resources in update, ` +
        `${runs.preview.length} in preview)`,
    ),
  );
  process.exitCode = results.some((r) => r.status === "fail") ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
