/** Shared IPC helper for bench child processes: answer `{ id, cmd }` requests from the parent. */
export type Handler = (message: { id: number; cmd: string; [key: string]: unknown }) => unknown;

export function serveIpc(handler: Handler): void {
  process.on("message", (raw) => {
    const message = raw as { id: number; cmd: string };
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (reply) => process.send?.({ id: message.id, ok: true, ...(reply as object) }),
        (error: unknown) => process.send?.({ id: message.id, ok: false, error: String(error) }),
      );
  });
  // Parent gone → exit, so no orphan keeps a port or a core busy.
  process.on("disconnect", () => process.exit(0));
}
