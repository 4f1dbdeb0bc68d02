/**
 * Runs a stack program (by default this project's) through the shared harness (harness/run-program.ts: a child process in the directory
 * the Pulumi language host would choose, under the shared mocks) and shapes what it registered as a policy pack
 * sees it: inputs, props (inputs + provider state + id) and the stack resource with the exports as outputs.
 */
import { PROJECT, runStackProgram, type StackRun } from "../harness/run-program";
import type { RecordedStackResource, Runs } from "./evaluate";
import { unwrapSecrets } from "../harness/mocks";

export const STACK = "dev";

function asPolicySees(run: StackRun): RecordedStackResource[] {
  const resources: RecordedStackResource[] = run.resources.map((r) => {
    const inputs = unwrapSecrets(r.inputs) as Record<string, unknown>;
    const state = unwrapSecrets(r.state) as Record<string, unknown>;
    return {
      type: r.type,
      name: r.name,
      urn: `urn:pulumi:${STACK}::${PROJECT}::${r.type}::${r.name}`,
      inputs,
      // The mock gives every resource the id `<name>-id`; stack rules match references against it.
      props: { ...inputs, ...state, id: `${r.name}-id` },
    };
  });
  const stackName = `${PROJECT}-${STACK}`;
  resources.push({
    type: "pulumi:pulumi:Stack",
    name: stackName,
    urn: `urn:pulumi:${STACK}::${PROJECT}::pulumi:pulumi:Stack::${stackName}`,
    inputs: {},
    props: unwrapSecrets(run.outputs) as Record<string, unknown>,
  });
  return resources;
}

/**
 * The stack as a preview and as an update. The preview answers like the engine on a new stack: computed outputs
 * unknown, so an `.apply()` on one never runs and a resource created inside it is missing, as in a real preview.
 * `config` overrides Pulumi.dev.yaml's, e.g. to switch options on (the runs are harness/stack-modes.ts's `devPreviewNew`
 * and `devUpdate`, or their `everyOption…` pair with its config, shared with the infra tests).
 */
export async function runStack(projectRoot?: string, config?: Record<string, string>): Promise<Runs> {
  const [preview, update] = await Promise.all([
    runStackProgram({ preview: true, stack: STACK, unknownComputedOutputs: true, projectRoot, config }),
    runStackProgram({ preview: false, stack: STACK, projectRoot, config }),
  ]);
  return { preview: asPolicySees(preview), update: asPolicySees(update) };
}
