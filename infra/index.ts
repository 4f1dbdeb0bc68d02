/**
 * Pulumi program entry (Pulumi.yaml `main: infra/`): validate config, build the bundles the images copy (on
 * `pulumi up`), create the stack, export its outputs. Wiring only; see stack.ts.
 */
import { ensureBundles } from "./build-step";
import { loadConfig } from "./config";
import { createStack } from "./stack";

const config = loadConfig();
ensureBundles(config.buildBundles);
const outputs = createStack(config);

export const apiUrl = outputs.apiUrl;
export const queueUrl = outputs.queueUrl;
export const queueArn = outputs.queueArn;
export const queueKeyArn = outputs.queueKeyArn;
export const dlqUrl = outputs.dlqUrl;
export const secretArn = outputs.secretArn;
export const functionName = outputs.functionName;
export const functionArn = outputs.functionArn;
export const clusterName = outputs.clusterName;
export const serviceName = outputs.serviceName;
export const dashboardUrl = outputs.dashboardUrl;
