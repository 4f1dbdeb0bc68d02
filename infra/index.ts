/**
 * Pulumi program entry (package.json `main`; Pulumi runs it from the project root): validate config, create the
 * stack, export its outputs. Wiring only; see stack.ts.
 */
import { loadConfig } from "./config";
import { createStack } from "./stack";

const config = loadConfig();
const outputs = createStack(config);

export const apiUrl = outputs.apiUrl;
export const queueUrl = outputs.queueUrl;
export const queueArn = outputs.queueArn;
export const queueKeyArn = outputs.queueKeyArn;
export const dlqUrl = outputs.dlqUrl;
export const tableName = outputs.tableName;
export const secretArn = outputs.secretArn;
export const functionName = outputs.functionName;
export const functionArn = outputs.functionArn;
export const clusterName = outputs.clusterName;
export const serviceName = outputs.serviceName;
export const dashboardUrl = outputs.dashboardUrl;
export const canaryName = outputs.canaryName;
