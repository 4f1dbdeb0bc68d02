/** Loopback port helpers shared by the local stack, its tests and the bench. */
import net from "node:net";

/** An OS-assigned free loopback port (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/**
 * `count` distinct OS-assigned free loopback ports. All are held open until every one is assigned, so the OS cannot
 * hand out the same port twice (separate `freePort()` calls can, which made a port collide with itself).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
