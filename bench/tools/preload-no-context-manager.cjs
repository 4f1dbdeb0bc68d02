// Experiment preload (bench/tools/api-variants.ts): after dist/app/tracing.js, swap the registered
// AsyncLocalStorageContextManager for a pass-through one, so no async hooks / promise hooks are ever enabled.
const registry = globalThis[Symbol.for("opentelemetry.js.api.1")];
if (registry && registry.context) {
  const root = registry.context.active();
  registry.context.disable();
  registry.context = {
    active: () => root,
    with: (_ctx, fn, thisArg, ...args) => fn.call(thisArg, ...args),
    bind: (_ctx, target) => target,
    enable() {
      return this;
    },
    disable() {
      return this;
    },
  };
}
