/**
 * Bookkeeping for scripted fake servers in unit tests (fake clamd, fake spamd): `track` a
 * server when it is created; `closeAll` closes every tracked server and cuts the connections
 * a hung fake still holds, so a test that leaves a client waiting cannot keep the run alive.
 */
import type net from "node:net";

export function fakeServers(): { track: (server: net.Server) => void; closeAll: () => Promise<unknown> } {
  const servers: net.Server[] = [];
  const track = (server: net.Server) => {
    const sockets = new Set<net.Socket>();
    server.on("connection", (c) => { sockets.add(c); c.on("close", () => sockets.delete(c)); });
    server.on("cut", () => { for (const c of sockets) c.destroy(); });
    servers.push(server);
  };
  const closeAll = () => Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.close(r); s.emit("cut"); })));
  return { track, closeAll };
}
