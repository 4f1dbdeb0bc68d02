/**
 * The package's plugin schema, as `pulumi package add` gets it (ComponentProvider.getSchema()), computed once per
 * test run and shared by its worker processes: the analyzer type-checks the whole package with @pulumi/aws's
 * declarations, which takes seconds of CPU.
 */
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { sharedAcrossProcesses } from "../../harness/run-cache";
import { STACK_RUN_TEST_TIMEOUT_MS } from "../../harness/run-program";
import { providerOptions } from "../../packages/traced-components/src/provider-options";

export interface SchemaProperty {
  type?: string;
  $ref?: string;
  description?: string;
  items?: SchemaProperty;
}
export interface SchemaResource {
  isComponent?: boolean;
  description?: string;
  inputProperties?: Record<string, SchemaProperty>;
  requiredInputs?: string[];
  properties?: Record<string, SchemaProperty>;
}
export interface Schema {
  name: string;
  version: string;
  resources: Record<string, SchemaResource>;
  types: Record<string, { properties?: Record<string, SchemaProperty>; required?: string[] }>;
}

let schema: Promise<Schema> | undefined;
export const provider = new ComponentProvider(providerOptions);

export function packageSchema(): Promise<Schema> {
  schema ??= sharedAcrossProcesses(
    "package schema",
    async () => JSON.parse(await provider.getSchema()) as Schema,
    (error) => ({ message: (error as Error).message, data: undefined }),
    ({ message }) => new Error(message),
    STACK_RUN_TEST_TIMEOUT_MS,
  );
  return schema;
}
