/** Starts a loopback HTTP server and gives it an idempotent close() that also cuts kept-alive connections. */
import type http from "node:http";
import type { AddressInfo } from "node:net";

export async function listenHttp(
  server: http.Server,
  port: number,
  host: string,
): Promise<{ port: number; url: string; close(): Promise<void> }> {
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
