/**
 * How a flush's deadline reaches the export in flight. The SDK's `forceFlush()` takes no deadline (TracerProvider
 * keeps its timeout to itself), so a flush that gives up at its budget would leave an export running on its own, longer
 * deadline — past the end of a Lambda invocation, where the environment is frozen and the failure (breaker opened,
 * session dropped) is recorded only when it thaws. An exporter that implements {@link FlushDeadlineAware} is told the
 * deadline when the flush begins: exports in flight and those started before it ends settle by then.
 */

/** Ends a flush window; true when an export was cut at the window's deadline (the flush timed out). */
export type EndFlush = () => boolean;

export interface FlushDeadlineAware {
  /**
   * Until the returned function is called, every export in flight or started settles by `deadline` (a
   * `performance.now()` instant) at the latest; one cut there fails like one that reached its own deadline.
   */
  beginFlush(deadline: number): EndFlush;
}

const nothingCut: EndFlush = () => false;

/** `exporter.beginFlush(deadline)` if it has one (wrappers pass it on to the exporter they wrap), else a no-op. */
export function beginFlush(exporter: object | undefined, deadline: number): EndFlush {
  const aware = exporter as Partial<FlushDeadlineAware> | undefined;
  return typeof aware?.beginFlush === "function" ? aware.beginFlush(deadline) : nothingCut;
}
