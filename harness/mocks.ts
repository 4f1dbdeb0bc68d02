/**
 * Pulumi mocked runtime shared by every infra and policy test (and by the stack runs of harness/run-program.ts).
 *
 * Install it with `installMocks()` BEFORE importing any code under `infra/` (Pulumi reads the mock monitor when a
 * resource is constructed). Every registered resource is recorded with its inputs so tests assert on what would be
 * sent to AWS. The `call` mock is strict: an invoke without a handler below throws, so a new data-source lookup
 * cannot pass silently.
 */
import * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT = "123456789012";
export const MOCK_REGION = "eu-west-1";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
  /** This resource's URN as the mock monitor computes it. */
  readonly urn: string;
  /** The parent's URN ("" for top-level resources). */
  readonly parent: string;
  /** URNs this resource depends on (explicit `dependsOn` and inputs from other resources). */
  readonly dependencies: readonly string[];
}

export const recorded: RecordedResource[] = [];

/**
 * Every data-source token the program invoked (e.g. `aws:index/getRegion:getRegion`), in call order with
 * repeats; cleared with {@link recorded}. deploy/iam uses it to check the deployer may call each one.
 */
export const invokedTokens: string[] = [];

/** All recorded resources of one type token, e.g. `aws:sqs/queue:Queue`. */
export function resourcesOfType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

/** The single recorded resource of `type` whose logical name is `name` (throws when absent). */
export function resourceNamed(type: string, name: string): RecordedResource {
  const found = recorded.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = resourcesOfType(type).map((r) => r.name);
    throw new Error(`no ${type} named ${name}; recorded: ${names.join(", ") || "none"}`);
  }
  return found;
}

/** Resolves any Output (or plain value) to its value, for assertions. */
export function promiseOf<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

/** Whether an Output's value is known in this run (`isKnown` exists at runtime but is @internal in the typings). */
export function isKnown(output: pulumi.Input<unknown>): Promise<boolean> {
  return (pulumi.output(output) as unknown as { isKnown: Promise<boolean> }).isKnown;
}

/** Renders an `aws.iam.getPolicyDocument` invoke the way AWS does, so tests assert on real policy JSON. */
export function renderPolicyDocument(inputs: any): string {
  const list = (v: unknown) => (Array.isArray(v) ? (v.length === 1 ? v[0] : v) : v);
  const statements = (inputs.statements ?? []).map((s: any) => {
    const out: Record<string, unknown> = { Effect: s.effect ?? "Allow" };
    if (s.sid) out.Sid = s.sid;
    if (s.actions) out.Action = list(s.actions);
    if (s.notActions) out.NotAction = list(s.notActions);
    if (s.resources) out.Resource = list(s.resources);
    if (s.notResources) out.NotResource = list(s.notResources);
    if (s.principals) {
      const principal: Record<string, unknown> = {};
      for (const p of s.principals) principal[p.type] = list(p.identifiers);
      out.Principal = s.principals.length === 1 && s.principals[0].type === "*" ? "*" : principal;
    }
    if (s.conditions) {
      const condition: Record<string, Record<string, unknown>> = {};
      for (const c of s.conditions) {
        condition[c.test] = { ...(condition[c.test] ?? {}), [c.variable]: list(c.values) };
      }
      out.Condition = condition;
    }
    return out;
  });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * Values the `getServiceQuota` mock answers, by `<serviceCode>/<quotaCode>` (AWS defaults); a test may lower one
 * and must restore it.
 */
export const mockServiceQuotas: Record<string, number> = {
  // Lambda "Concurrent executions": 1000 by default (new accounts may have 10).
  "lambda/L-B99A9384": 1000,
};

const invokeHandlers: Record<string, (inputs: any) => Record<string, any>> = {
  "aws:iam/getPolicyDocument:getPolicyDocument": (inputs) => ({ json: renderPolicyDocument(inputs), id: "doc" }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: MOCK_ACCOUNT,
    arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/test`,
    userId: "AIDTEST",
    id: MOCK_ACCOUNT,
  }),
  "aws:index/getRegion:getRegion": () => ({ name: MOCK_REGION, region: MOCK_REGION, id: MOCK_REGION }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
  "aws:servicequotas/getServiceQuota:getServiceQuota": (inputs) => {
    const value = mockServiceQuotas[`${inputs.serviceCode}/${inputs.quotaCode}`];
    if (value === undefined) throw new Error(`no mocked quota ${inputs.serviceCode}/${inputs.quotaCode}`);
    return {
      serviceCode: inputs.serviceCode,
      quotaCode: inputs.quotaCode,
      value,
      defaultValue: value,
      adjustable: true,
      globalQuota: false,
      id: `${inputs.serviceCode}/${inputs.quotaCode}`,
    };
  },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    userName: "AWS",
    password: "mock-ecr-password",
    authorizationToken: "bW9jaw==",
    proxyEndpoint: `https://${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com`,
    id: "token",
  }),
};

/** Outputs AWS computes for a resource, keyed by type token; everything else echoes the inputs. */
function computedState(type: string, name: string, inputs: any): Record<string, any> {
  const physical = inputs.name ?? `${name}-mock`;
  const service = type.split(":")[1]?.split("/")[0] ?? "mock";
  const state: Record<string, any> = {
    arn: `arn:aws:${service}:${MOCK_REGION}:${MOCK_ACCOUNT}:${physical}`,
    name: physical,
  };
  switch (type) {
    case "aws:sqs/queue:Queue":
      state.url = `https://sqs.${MOCK_REGION}.amazonaws.com/${MOCK_ACCOUNT}/${physical}`;
      state.arn = `arn:aws:sqs:${MOCK_REGION}:${MOCK_ACCOUNT}:${physical}`;
      break;
    case "aws:ecr/repository:Repository":
      state.repositoryUrl = `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/${physical}`;
      break;
    case "docker:index/image:Image":
      // `<repository>@sha256:<digest>`: the tag is not part of a repo digest.
      state.repoDigest = `${String(inputs.imageName ?? physical).replace(/:[^:/]+$/, "")}@sha256:${"ab".repeat(32)}`;
      state.imageName = inputs.imageName;
      break;
    case "docker-build:index:Image": {
      // The pushed manifest's digest, and `ref` = the first tag plus that digest (pulumi-docker-build `addDigest`).
      state.digest = `sha256:${"ab".repeat(32)}`;
      const tag = (inputs.tags ?? [])[0];
      if (tag !== undefined) state.ref = `${tag}@${state.digest}`;
      break;
    }
    case "aws:kms/key:Key":
      state.keyId = `key-${name}`;
      state.arn = `arn:aws:kms:${MOCK_REGION}:${MOCK_ACCOUNT}:key/key-${name}`;
      break;
    case "aws:lb/loadBalancer:LoadBalancer":
      state.dnsName = `${physical}.${MOCK_REGION}.elb.amazonaws.com`;
      state.arnSuffix = `app/${physical}/0123456789abcdef`;
      // The canonical hosted zone of ALBs in eu-west-1 (Elastic Load Balancing endpoints and quotas).
      state.zoneId = "Z32O12XQLNTSW2";
      break;
    case "aws:acm/certificate:Certificate":
      state.arn = `arn:aws:acm:${MOCK_REGION}:${MOCK_ACCOUNT}:certificate/${name}-mock`;
      // What ACM answers for a DNS-validated certificate of one name: one CNAME under that name.
      state.domainValidationOptions = [
        {
          domainName: inputs.domainName,
          resourceRecordName: `_0123456789abcdef.${inputs.domainName}.`,
          resourceRecordType: "CNAME",
          resourceRecordValue: "_fedcba9876543210.mock.acm-validations.aws.",
        },
      ];
      break;
    case "aws:s3/bucket:Bucket":
      state.bucket = inputs.bucket ?? physical;
      break;
    case "aws:route53/record:Record":
      state.fqdn = String(inputs.name).replace(/\.$/, "");
      break;
    case "aws:lb/targetGroup:TargetGroup":
      state.arnSuffix = `targetgroup/${physical}/0123456789abcdef`;
      break;
    case "awsx:ec2:Vpc":
      state.vpcId = "vpc-mock";
      state.privateSubnetIds = ["subnet-private-a", "subnet-private-b"];
      state.publicSubnetIds = ["subnet-public-a", "subnet-public-b"];
      break;
  }
  return state;
}

/** Options for {@link installMocks}. */
export interface MockOptions {
  /** Dry-run mode (`pulumi preview`). @default false */
  readonly preview?: boolean;
  /**
   * In preview, answer like the engine on a new stack: every resource comes back with its inputs only — no id, and
   * every output the provider computes (ARNs, URLs, digests) unknown — so `.apply()` callbacks on them never run
   * and a resource created inside one is missing, as it is in a real preview. Otherwise computed outputs are
   * mocked in preview too, which is what most assertions want.
   * @default false
   */
  readonly unknownComputedOutputs?: boolean;
  /** Stack name. @default "test" */
  readonly stack?: string;
}

/** A registration request as the monitor receives it (the SDK's generated gRPC message). */
export type RegisterResourceRequest = any;

const registrationListeners: ((request: RegisterResourceRequest) => void)[] = [];

/**
 * Calls `listener` with every registration request from now until the next installMocks, for what a
 * RecordedResource does not keep (resource options such as customTimeouts).
 */
export function onRegisterResource(listener: (request: RegisterResourceRequest) => void): void {
  registrationListeners.push(listener);
}

/**
 * Installs the recording mocks. Call again to switch mode; it clears the recorded resources.
 */
export function installMocks(options: MockOptions = {}): void {
  recorded.length = 0;
  invokedTokens.length = 0;
  registrationListeners.length = 0;
  const stack = options.stack ?? "test";
  const inputsOnly = (options.preview ?? false) && (options.unknownComputedOutputs ?? false);
  const meta = new Map<string, { parent: string; dependencies: string[] }>();
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const state = inputsOnly
          ? { ...args.inputs }
          : { ...args.inputs, ...computedState(args.type, args.name, args.inputs) };
        const { parent, dependencies } = meta.get(`${args.type}::${args.name}`) ?? { parent: "", dependencies: [] };
        recorded.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          urn: urnOf(stack, parent, args.type, args.name),
          parent,
          dependencies,
        });
        // An empty id is unknown in a dry run.
        return { id: inputsOnly ? "" : `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        invokedTokens.push(args.token);
        const handler = invokeHandlers[args.token];
        if (!handler) {
          const message = `unmocked invoke ${args.token}: add a handler in harness/mocks.ts`;
          // The SDK re-raises a failed invoke with the gRPC error's `details`, so put the message there.
          throw Object.assign(new Error(message), { details: message });
        }
        return handler(args.inputs);
      },
    },
    "traced-onboarding",
    stack,
    options.preview ?? false,
  );
  // The mock API does not pass parents or dependencies to newResource; capture them from the request.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    meta.set(`${req.getType()}::${req.getName()}`, {
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
    });
    for (const listener of registrationListeners) listener(req);
    return register(req, callback);
  };
}

/** The URN the mock monitor gives a resource (same rule as @pulumi/pulumi's MockMonitor.newUrn). */
function urnOf(stack: string, parent: string, type: string, name: string): string {
  let qualified = type;
  if (parent) qualified = `${parent.split("::")[2].split("$").pop()}$${type}`;
  return `urn:pulumi:${stack}::traced-onboarding::${qualified}::${name}`;
}

/** Waits until no new resource has been registered for a few event-loop turns. */
export async function settleAll(): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    stable = recorded.length === last ? stable + 1 : 0;
    last = recorded.length;
  }
}

/** The signature key/value Pulumi uses to mark a serialized secret. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input value was sent as a secret. */
export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as any)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Removes secret wrappers, returning plain values (for assertions on shape). */
export function unwrapSecrets(value: any): any {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Every place (`type name path`) where `needle` occurs in a recorded input that is NOT marked secret. */
export function plaintextOccurrences(needle: string, resources: readonly RecordedResource[] = recorded): string[] {
  const found: string[] = [];
  const walk = (value: unknown, where: string) => {
    if (isSecretValue(value)) return;
    if (typeof value === "string") {
      if (value.includes(needle)) found.push(where);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`));
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
    }
  };
  for (const r of resources) walk(r.inputs, `${r.type} ${r.name}`);
  return found;
}

/** Every place where `needle` occurs inside a secret-marked input. */
export function secretOccurrences(needle: string, resources: readonly RecordedResource[] = recorded): string[] {
  return resources
    .filter((r) => Object.values(r.inputs).some((v) => isSecretValue(v) && JSON.stringify(v.value).includes(needle)))
    .map((r) => `${r.type} ${r.name}`);
}

/** A parsed IAM policy document. */
export interface PolicyDocument {
  Version: string;
  Statement: {
    Sid?: string;
    Effect: string;
    Action?: string | string[];
    Resource?: string | string[];
    Principal?: unknown;
    Condition?: Record<string, Record<string, unknown>>;
  }[];
}

/** The inline policy (parsed) attached to the role with logical name `roleName`. */
export function inlinePolicyOfRole(roleName: string): PolicyDocument {
  const role = resourceNamed("aws:iam/role:Role", roleName);
  const policies = resourcesOfType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.state.name);
  if (policies.length !== 1) throw new Error(`expected one inline policy on ${roleName}, found ${policies.length}`);
  return JSON.parse(policies[0].inputs.policy);
}

/** `{ sid: { actions, resources } }` with single values normalised to arrays, for exact comparisons. */
export function grantsOf(
  doc: PolicyDocument,
): Record<string, { effect: string; actions: string[]; resources: string[] }> {
  const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]) as string[];
  const out: Record<string, { effect: string; actions: string[]; resources: string[] }> = {};
  doc.Statement.forEach((s, i) => {
    out[s.Sid ?? `#${i}`] = { effect: s.Effect, actions: list(s.Action), resources: list(s.Resource) };
  });
  return out;
}

/** Sets stack config the way `pulumi config set` would (keys without the project prefix). */
export function setStackConfig(values: Record<string, string>, secretKeys: string[] = []): void {
  const prefixed = (k: string) => (k.includes(":") ? k : `traced-onboarding:${k}`);
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) all[prefixed(k)] = v;
  pulumi.runtime.setAllConfig(all, secretKeys.map(prefixed));
}
