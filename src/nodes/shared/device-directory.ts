/**
 * The deployed meross-config nodes of one Node-RED runtime, so a node that takes its device
 * from the message finds it by name or uuid without scanning every node of the flows. Each
 * meross-config adds itself when created and removes itself on close.
 *
 * One directory per runtime, never a module-level one: it is kept under the runtime's admin
 * app (shared by every node file of one runtime, different for another runtime), the way the
 * broker's handover belongs to the registration of its node type.
 */
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import { MerossError, describeValue } from "../../core";
import { fits, kindsFor, type NodeKind } from "./device-fit";
import type { MerossConfigNode } from "./types";

/** Names listed in a "no such device" sentence; more are summed up as "and N more". */
const LISTED = 12;

export interface DeviceDirectory {
  /** Adds a config; the returned function removes it again. */
  add(config: MerossConfigNode): () => void;
  has(config: MerossConfigNode): boolean;
  /** Every deployed meross-config. */
  all(): MerossConfigNode[];
  /** The config `text` names (node name, device name or uuid, any case); BAD_INPUT when none or several. */
  find(text: string, kind?: NodeKind): MerossConfigNode;
  /** "devices: A, B" (those that fit `kind`, or whose abilities are unknown), for a sentence. */
  offered(kind?: NodeKind): string;
}

const directories = new WeakMap<object, DeviceDirectory>();

function keyOf(RED: NodeAPI): object {
  // httpAdmin is the runtime's one admin app, the same object for every node file it loads.
  const admin = (RED as { httpAdmin?: unknown }).httpAdmin;
  return admin && (typeof admin === "object" || typeof admin === "function") ? (admin as object) : RED.events;
}

const norm = (s: string): string => s.trim().toLowerCase();

/** Every name a config answers to, lower-case: its node name, the device's name and its uuid. */
function namesOf(c: MerossConfigNode): string[] {
  return [c.name ?? "", c.displayName(), c.uuid()].filter((s) => s.trim() !== "").map(norm);
}

function listText(configs: MerossConfigNode[]): string {
  const names = [...new Set(configs.map((c) => c.displayName()))].sort((a, b) => a.localeCompare(b));
  const more = names.length > LISTED ? `, and ${names.length - LISTED} more` : "";
  return names.slice(0, LISTED).join(", ") + more;
}

function create(): DeviceDirectory {
  const configs = new Map<string, MerossConfigNode>();
  return {
    add(config) {
      configs.set(config.id, config);
      return () => {
        if (configs.get(config.id) === config) configs.delete(config.id);
      };
    },
    has: (config) => configs.get(config.id) === config,
    all: () => [...configs.values()],
    find(text, kind) {
      const wanted = norm(text);
      const all = [...configs.values()];
      // A few configs per home: this walks the meross-config nodes only, never the whole flow.
      const hits = all.filter((c) => namesOf(c).includes(wanted));
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) {
        const which = hits.map((c) => `${c.displayName()} (${c.uuid() || c.host || c.id})`).join(", ");
        throw new MerossError(
          "BAD_INPUT",
          `${hits.length} Meross devices answer to ${describeValue(text)}: ${which}. Name the device by its uuid instead.`,
        );
      }
      // A config without a uuid learns it from the device's first answer: until then only its names find it.
      const unsure = /^[0-9a-f]{32}$/i.test(wanted) && all.some((c) => !c.uuid());
      const hint = unsure ? " A device whose configuration has no uuid is found by name until it has answered once." : "";
      throw new MerossError("BAD_INPUT", `No Meross device named ${describeValue(text)}; ${this.offered(kind)}.${hint}`);
    },
    offered(kind) {
      const fitting = [...configs.values()].filter((c) => fits(kind, c.device?.abilities));
      return fitting.length > 0 ? `devices: ${listText(fitting)}` : "there is no Meross device for this node in the deployed flows";
    },
  };
}

/** The runtime's directory, created on first use (by a meross-config or a node looking one up). */
export function deviceDirectory(RED: NodeAPI): DeviceDirectory {
  const key = keyOf(RED);
  let d = directories.get(key);
  if (!d) {
    d = create();
    directories.set(key, d);
  }
  return d;
}

/**
 * For the editor's device lists: which node kinds each deployed meross-config can serve, from the
 * abilities its session already learnt (no device is contacted). A config missing from the answer,
 * or with `kinds: null`, is not known yet and stays listed.
 */
export function registerDirectoryAdmin(RED: NodeAPI): void {
  RED.httpAdmin.get("/meross-config/kinds", RED.auth.needsPermission("meross-config.read"), (_req: Request, res: Response) => {
    const kinds: Record<string, string[] | null> = {};
    for (const c of deviceDirectory(RED).all()) kinds[c.id] = kindsFor(c.device?.abilities) ?? null;
    res.json({ kinds });
  });
}
