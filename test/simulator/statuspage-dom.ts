/**
 * The status page's own script, served by a running fleet, run in a tiny stand-in for a browser:
 * elements that keep children, attributes, text and click listeners; `fetch` goes to the fleet.
 * A test then clicks a button by its label, as a person on the page would, and looks at the device.
 */
import vm from "node:vm";
import type { Fleet } from "../../src/simulator/fleet";

export class PageElement {
  readonly children: PageElement[] = [];
  readonly attrs: Record<string, string> = {};
  readonly style: Record<string, string> = {};
  className = "";
  title = "";
  innerHTML = "";
  parentNode: PageElement | undefined;
  private text = "";
  private readonly clicks: Array<() => void> = [];

  constructor(
    readonly tagName: string,
    readonly id = "",
  ) {}

  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join("");
  }

  set textContent(value: string) {
    for (const c of this.children.splice(0)) c.parentNode = undefined;
    this.text = value;
  }

  setAttribute(name: string, value: unknown): void {
    this.attrs[name] = String(value);
  }

  appendChild(child: PageElement): PageElement {
    child.parentNode?.removeChild(child);
    child.parentNode = this;
    this.children.push(child);
    return child;
  }

  removeChild(child: PageElement): PageElement {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
    child.parentNode = undefined;
    return child;
  }

  addEventListener(type: string, listener: () => void): void {
    if (type === "click") this.clicks.push(listener);
  }

  querySelector(selector: string): PageElement | null {
    const cls = selector.startsWith(".") ? selector.slice(1) : undefined;
    return this.all().find((e) => cls !== undefined && e.className.split(" ").includes(cls)) ?? null;
  }

  click(): void {
    for (const listener of this.clicks) listener();
  }

  all(): PageElement[] {
    return this.children.flatMap((c) => [c, ...c.all()]);
  }
}

export interface StatusPage {
  /** The buttons on a device's card, by their label. */
  buttons(uuid: string): string[];
  /** Clicks the button with this label on the device's card and waits for the page's request to be answered. */
  click(uuid: string, label: string | RegExp): Promise<void>;
}

/** Loads the page from the fleet and runs its script until the first list of devices is shown. */
export async function openStatusPage(fleet: Fleet): Promise<StatusPage> {
  const base = fleet.statusUrl;
  const html = await (await fetch(base)).text();
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!script) throw new Error("the status page has no script");
  const byId: Record<string, PageElement> = {
    devices: new PageElement("main", "devices"),
    live: new PageElement("span", "live"),
    "live-text": new PageElement("span", "live-text"),
  };
  const pending: Array<Promise<unknown>> = [];
  const settle = async (): Promise<void> => {
    while (pending.length) await Promise.allSettled(pending.splice(0));
    // The page's own .then() after the answer (showing the devices) runs on the next turns.
    await new Promise((r) => setImmediate(r));
  };
  const context = vm.createContext({
    document: {
      getElementById: (id: string) => byId[id] ?? null,
      createElement: (tag: string) => new PageElement(tag),
    },
    fetch: (url: string, init?: RequestInit) => {
      const answer = fetch(new URL(url, base), init).then((res) => {
        // The page reads JSON answers; keep the body readable once, after the request is counted as done.
        const json = res.json();
        pending.push(json);
        return { json: () => json };
      });
      pending.push(answer);
      return answer;
    },
    // Live updates are not needed: a test reloads by opening the page again.
    EventSource: class {
      onopen: unknown;
      onmessage: unknown;
      onerror: unknown;
    },
  });
  vm.runInContext(script, context);
  await settle();
  const card = (uuid: string): PageElement => {
    const found = byId.devices.children.find((c) => c.attrs["data-uuid"] === uuid);
    if (!found) throw new Error(`the status page shows no card for ${uuid}`);
    return found;
  };
  const buttonsOf = (uuid: string): PageElement[] =>
    card(uuid)
      .all()
      .filter((e) => e.tagName === "button");
  return {
    buttons: (uuid) => buttonsOf(uuid).map((b) => b.textContent),
    async click(uuid, label) {
      const match = (text: string): boolean => (typeof label === "string" ? text === label : label.test(text));
      const button = buttonsOf(uuid).find((b) => match(b.textContent));
      if (!button)
        throw new Error(
          `no button ${String(label)} on the card; it has: ${buttonsOf(uuid)
            .map((b) => b.textContent)
            .join(", ")}`,
        );
      button.click();
      await settle();
    },
  };
}
