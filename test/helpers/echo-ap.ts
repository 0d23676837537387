/**
 * A fake access point in front of a simulated device: it passes every request through, but
 * answers Config.Wifi / Config.WifiX with an ERROR that echoes the payload it was sent (the
 * base64 or WifiX-encrypted password), and the password decoded, in the error detail.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { computeSign, type Envelope } from "../../src/core/protocol/message";

export interface EchoAp {
  address: string;
  /** The Config.Wifi(X) payloads it echoed. */
  echoed: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function echoingAccessPoint(target: string, key: () => string): Promise<EchoAp> {
  const echoed: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let env: Envelope | undefined;
      try {
        env = JSON.parse(body.toString("utf8")) as Envelope;
      } catch {
        env = undefined;
      }
      if (env?.header && /^Appliance\.Config\.WifiX?$/.test(env.header.namespace)) {
        const wifi = env.payload.wifi as Record<string, unknown>;
        echoed.push(wifi);
        const pw = typeof wifi.password === "string" ? wifi.password : "";
        const detail = `refused ${JSON.stringify(wifi)} (password ${Buffer.from(pw, "base64").toString("utf8")})`;
        const ts = Math.floor(Date.now() / 1000);
        const header = { ...env.header, method: "ERROR", timestamp: ts, sign: computeSign(env.header.messageId, key(), ts) };
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ header, payload: { error: { code: 1, detail } } }));
        return;
      }
      const fwd = http.request(
        `http://${target}/config`,
        { method: "POST", insecureHTTPParser: true, headers: { "content-type": "application/json", "content-length": body.length } },
        (r) => {
          const out: Buffer[] = [];
          r.on("data", (c: Buffer) => out.push(c));
          r.on("end", () => {
            res.statusCode = r.statusCode ?? 500;
            res.setHeader("content-type", "application/json");
            res.end(Buffer.concat(out));
          });
        },
      );
      fwd.on("error", () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    echoed,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
