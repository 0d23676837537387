/**
 * A simulated Meross account service on 127.0.0.1, written from the public descriptions of the
 * real one (meross_lan merossclient/cloudapi.py, MerossIot http_api.py, arandall/meross
 * cmd/meross-cloud; summary in docs/protocol.md §10): signed form posts, apiStatus envelopes,
 * region redirect (1030), MFA (1033/1032), wrong password (1004), too many tokens (1301),
 * devList, getSubDevices and a logout that voids the token. Two "regions" share one port:
 * the root path and `/region-b`.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** The public app secret the service checks signatures with. */
const APP_SECRET = "23x17ahWarFH6w29";
/** How far a request's timestamp may be from our clock (⚠ the real tolerance is not published). */
const CLOCK_SKEW_MS = 10 * 60_000;
const MAX_BODY = 64 * 1024;
export const OTHER_REGION_PATH = "/region-b";

/**
 * The demo's Meross account (a simulated one, for `meross simulate --cloud-port` and
 * demoCloudAccount in demo.ts). `key` is the default for a simulated device without one; the
 * demo fleet's account takes the key its app-paired devices sign with. Not a secret: demo values.
 */
export const DEMO_ACCOUNT = {
  email: "demo@example.com",
  password: "demo-password",
  userId: "2487453",
  key: "demo-account-key",
} as const;

export interface SimCloudDevice {
  uuid: string;
  name: string;
  model: string;
  firmware: string;
  hardware?: string;
  online?: boolean;
  subDevices?: Array<{ id: string; model: string; name: string }>;
}

export interface SimCloudAccount {
  email: string;
  password: string;
  userId: string;
  key: string;
  /** "other": the account lives on the second region; a sign-in at the first is redirected. */
  region?: "main" | "other";
  /** The code an MFA-protected account asks for. */
  mfaCode?: string;
  /** Sign-ins without a sign-out the account tolerates before 1301 (default 5). */
  maxTokens?: number;
  devices: SimCloudDevice[];
}

/** What the tests can look at: every call by path, and how many tokens are live. */
export interface SimCloudCall {
  path: string;
  apiStatus: number;
}

const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

export class SimulatedCloud {
  readonly calls: SimCloudCall[] = [];
  private readonly server: Server;
  private readonly tokens = new Map<string, SimCloudAccount>();
  private _port = 0;

  private constructor(private readonly accounts: SimCloudAccount[]) {
    this.server = createServer((req, res) => void this.route(req, res));
  }

  static async start(accounts: SimCloudAccount[], port = 0): Promise<SimulatedCloud> {
    const c = new SimulatedCloud(accounts);
    await new Promise<void>((resolve, reject) => {
      c.server.once("error", reject);
      c.server.listen(port, "127.0.0.1", () => resolve());
    });
    const a = c.server.address();
    c._port = typeof a === "object" && a ? a.port : 0;
    return c;
  }

  /** The first region's base URL (what a client is pointed at). */
  get url(): string {
    return `http://127.0.0.1:${this._port}`;
  }
  get otherRegionUrl(): string {
    return `${this.url}${OTHER_REGION_PATH}`;
  }
  /** Tokens issued and not signed out, for one account. */
  liveTokens(email: string): number {
    return [...this.tokens.values()].filter((a) => a.email === email).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (apiStatus: number, data: unknown = {}, info = ""): void => {
      this.calls.push({ path: req.url ?? "", apiStatus });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ apiStatus, sysStatus: 0, data, info, timeStamp: Date.now() }));
    };
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413).end();
      return;
    }
    let url = req.url ?? "/";
    let region: "main" | "other" = "main";
    if (url.startsWith(`${OTHER_REGION_PATH}/`)) {
      region = "other";
      url = url.slice(OTHER_REGION_PATH.length);
    }
    const form = parseForm(body, req.headers["content-type"]);
    if (!form) return reply(1001, {}, "Missing parameters");
    if (md5(`${APP_SECRET}${form.timestamp}${form.nonce}${form.params}`) !== form.sign) return reply(1022, {}, "Sign error");
    const ts = Number(form.timestamp);
    if (!Number.isFinite(ts) || Math.abs(ts - Date.now()) > CLOCK_SKEW_MS) return reply(1022, {}, "Timestamp out of range");
    let params: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(Buffer.from(form.params, "base64").toString("utf8"));
      if (typeof v !== "object" || v === null || Array.isArray(v)) return reply(1001, {}, "params is not an object");
      params = v as Record<string, unknown>;
    } catch {
      return reply(1001, {}, "params is not base64 JSON");
    }
    const path = url.toLowerCase();
    if (path === "/v1/auth/signin") return reply(...this.signIn(params, region));
    const account = this.tokenAccount(req.headers.authorization);
    if (!account) return reply(1019, {}, "Token invalid");
    if (path === "/v1/device/devlist") return reply(0, account.devices.map(devListEntry));
    if (path === "/v1/hub/getsubdevices") {
      const hub = account.devices.find((d) => d.uuid === params.uuid);
      return reply(
        0,
        (hub?.subDevices ?? []).map((s) => ({
          subDeviceId: s.id,
          subDeviceType: s.model,
          subDeviceVendor: "meross",
          subDeviceName: s.name,
          subDeviceIconId: "",
        })),
      );
    }
    if (path === "/v1/profile/logout") {
      this.tokens.delete(tokenOf(req.headers.authorization) ?? "");
      return reply(0, {});
    }
    res.writeHead(404).end();
  }

  private signIn(params: Record<string, unknown>, region: "main" | "other"): [number, unknown, string] {
    const account = this.accounts.find((a) => a.email.toLowerCase() === String(params.email ?? "").toLowerCase());
    if (!account) return [1008, {}, "This email is not registered"];
    const sent = typeof params.password === "string" ? params.password : "";
    // signIn sends md5(password) with encryption 1; the older login sent it as typed.
    const expected = params.encryption === 1 ? md5(account.password) : account.password;
    if (sent !== expected) return [1004, {}, "Wrong email or password"];
    const home = account.region ?? "main";
    if (home !== region) return [1030, { domain: home === "other" ? this.otherRegionUrl : this.url }, "Redirect to the account's region"];
    if (account.mfaCode !== undefined) {
      if (params.mfaCode === undefined || params.mfaCode === "") return [1033, { mfaLockExpire: 0 }, "MFA code required"];
      if (params.mfaCode !== account.mfaCode) return [1032, {}, "Wrong MFA code"];
    }
    if (this.liveTokens(account.email) >= (account.maxTokens ?? 5)) return [1301, {}, "Too many tokens"];
    const token = randomBytes(16).toString("hex");
    this.tokens.set(token, account);
    const domain = home === "other" ? this.otherRegionUrl : this.url;
    return [0, { userid: account.userId, email: account.email, key: account.key, token, domain, mqttDomain: "127.0.0.1" }, ""];
  }

  private tokenAccount(auth: string | undefined): SimCloudAccount | undefined {
    const t = tokenOf(auth);
    return t ? this.tokens.get(t) : undefined;
  }
}

function tokenOf(auth: string | undefined): string | undefined {
  const m = /^Basic (\S+)$/.exec(auth ?? "");
  return m?.[1];
}

function devListEntry(d: SimCloudDevice): Record<string, unknown> {
  return {
    uuid: d.uuid,
    onlineStatus: d.online === false ? 2 : 1,
    devName: d.name,
    devIconId: "",
    bindTime: 1700000000,
    deviceType: d.model,
    subType: "un",
    channels: [{}],
    region: "eu",
    fmwareVersion: d.firmware,
    hdwareVersion: d.hardware ?? "",
    userDevIcon: "",
    iconType: 1,
    domain: "127.0.0.1:8883",
    reservedDomain: "127.0.0.1:8883",
  };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(undefined));
  });
}

/** The four signed fields, from a form post (the app, MerossIot) or a JSON body (meross_lan). */
function parseForm(body: string, type: string | undefined): { params: string; sign: string; timestamp: string; nonce: string } | undefined {
  let get: (k: string) => unknown;
  if ((type ?? "").includes("application/json")) {
    let o: unknown;
    try {
      o = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (typeof o !== "object" || o === null) return undefined;
    get = (k) => (o as Record<string, unknown>)[k];
  } else {
    const f = new URLSearchParams(body);
    get = (k) => f.get(k) ?? undefined;
  }
  const out = { params: get("params"), sign: get("sign"), timestamp: get("timestamp"), nonce: get("nonce") };
  if (typeof out.params !== "string" || typeof out.sign !== "string" || typeof out.nonce !== "string") return undefined;
  if (typeof out.timestamp !== "string" && typeof out.timestamp !== "number") return undefined;
  return { params: out.params, sign: out.sign, timestamp: String(out.timestamp), nonce: out.nonce };
}
