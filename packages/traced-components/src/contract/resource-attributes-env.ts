/**
 * `OTEL_RESOURCE_ATTRIBUTES` syntax for a record: `k=v,k2=v2`, keys and values percent-encoded (the spec requires it
 * for `,` and `=` and allows it for the rest). What the components and the local stack put in the environment; the
 * runtime reads it back with the SDK's env detector.
 */
export function formatResourceAttributesEnv(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join(",");
}

/** Who a service is: what the components know about it and the runtime reports as its resource. */
export interface ServiceIdentity {
  readonly serviceName: string;
  /** `service.namespace` and Coralogix's application name. */
  readonly application: string;
  readonly version: string;
  readonly environment: string;
}

/**
 * The standard variables that carry a service's identity (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), so a
 * function in any language with an OpenTelemetry SDK reports the same resource. Coralogix's application/subsystem
 * attributes ride along, as its OTLP ingress reads them from the resource.
 */
export function serviceIdentityEnv(identity: ServiceIdentity): {
  OTEL_SERVICE_NAME: string;
  OTEL_RESOURCE_ATTRIBUTES: string;
} {
  return {
    OTEL_SERVICE_NAME: identity.serviceName,
    OTEL_RESOURCE_ATTRIBUTES: formatResourceAttributesEnv({
      "service.namespace": identity.application,
      "service.version": identity.version,
      "deployment.environment.name": identity.environment,
      "cx.application.name": identity.application,
      "cx.subsystem.name": identity.serviceName,
    }),
  };
}
