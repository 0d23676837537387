/**
 * The fleet status page: one self-contained HTML document (no external assets, the demo
 * must work offline). It reads /events (Server-Sent Events, full snapshot each time) and
 * posts to /api/devices/:uuid/press with the X-Meross-Simulator header. The data-* attributes
 * are the browser tests' contract.
 */
import { createHash } from "node:crypto";

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Meross simulator</title>
<style>
  :root { --bg:#12161c; --card:#1b222b; --line:#2a333f; --text:#e8edf3; --muted:#8b98a8; --accent:#3fb68b; --off:#4a5562; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--text); }
  header { padding:20px 28px 8px; display:flex; align-items:baseline; gap:16px; flex-wrap:wrap; }
  h1 { font-size:22px; margin:0; font-weight:650; }
  .sub { color:var(--muted); }
  .live { margin-left:auto; font-size:13px; color:var(--muted); display:flex; align-items:center; gap:6px; }
  .dot { width:9px; height:9px; border-radius:50%; background:#c0392b; display:inline-block; }
  .live.ok .dot { background:var(--accent); box-shadow:0 0 8px var(--accent); }
  main { display:grid; grid-template-columns:repeat(auto-fill, minmax(270px, 1fr)); gap:18px; padding:12px 28px 32px; }
  .card { background:var(--card); border:1px solid var(--line); border-radius:14px; padding:16px 18px; display:flex;
    flex-direction:column; gap:12px; }
  .top { display:flex; justify-content:space-between; align-items:flex-start; gap:8px; }
  .name { font-weight:650; font-size:17px; }
  .model { color:var(--muted); font-size:13px; }
  .badge { font-size:11px; font-weight:700; letter-spacing:.04em; padding:3px 8px; border-radius:99px; white-space:nowrap; }
  .badge.ap { background:#5a4514; color:#ffd479; }
  .badge.normal { background:#173d30; color:#7ee2b8; }
  .badges { display:flex; flex-direction:column; align-items:flex-end; gap:4px; }
  .badge.mqtt { background:#26303b; color:var(--muted); font-weight:600; }
  .badge.mqtt[data-state="connected"] { background:#14304a; color:#8cc8ff; }
  .badge.mqtt[data-state="refused"] { background:#4a1c1c; color:#ff9c9c; }
  .visual { display:flex; justify-content:center; align-items:center; min-height:130px; }
  .bulb { width:104px; height:104px; border-radius:50%; border:2px solid rgba(255,255,255,.15);
    transition:background .25s, box-shadow .25s, opacity .25s; }
  .bulb[data-on="false"] { background:#2b323c !important; box-shadow:none !important; opacity:1 !important; }
  .switches { display:flex; gap:14px; flex-wrap:wrap; justify-content:center; }
  .sw { display:flex; flex-direction:column; align-items:center; gap:6px; font-size:12px; color:var(--muted); }
  .track { width:58px; height:32px; border-radius:99px; background:var(--off); position:relative; border:none; cursor:pointer;
    transition:background .2s; }
  .track::after { content:""; position:absolute; top:3px; left:3px; width:26px; height:26px; border-radius:50%; background:#fff;
    transition:left .2s; }
  .track[data-on="true"] { background:var(--accent); }
  .track[data-on="true"]::after { left:29px; }
  .facts { font-size:13px; color:var(--muted); display:grid; grid-template-columns:auto 1fr; gap:2px 10px; }
  .facts b { color:var(--text); font-weight:500; font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12px;
    word-break:break-all; }
  .press { align-self:stretch; background:#26303b; color:var(--text); border:1px solid var(--line); border-radius:9px;
    padding:8px 10px; font-size:14px; cursor:pointer; }
  .press:hover { background:#2f3b48; }
  .covers { display:flex; gap:18px; flex-wrap:wrap; justify-content:center; }
  .cover { display:flex; flex-direction:column; align-items:center; gap:6px; font-size:12px; color:var(--muted); }
  .frame { width:96px; height:84px; border:2px solid var(--line); border-radius:6px 6px 0 0; position:relative; overflow:hidden;
    background:#0d1116; }
  .panel { position:absolute; left:0; right:0; top:0; background:repeating-linear-gradient(#8b98a8 0 9px, #6d7886 9px 12px);
    transition:height .25s linear; }
  .cover[data-state="opening"] .frame, .cover[data-state="closing"] .frame { border-color:#8cc8ff; }
  .moves { display:flex; gap:6px; }
  .subs { display:flex; flex-direction:column; gap:6px; align-self:stretch; font-size:13px; }
  .subdev { border:1px solid var(--line); border-radius:8px; padding:5px 9px; color:var(--muted); }
  .subdev b { color:var(--text); font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12px; margin-right:6px; }
  .moves .press { padding:6px 9px; font-size:13px; }
  .state { text-align:center; font-size:13px; color:var(--muted); }
  .empty { color:var(--muted); padding:28px; }
  footer { color:var(--muted); font-size:12px; padding:0 28px 24px; }
  code { font-family:ui-monospace, Menlo, Consolas, monospace; }
</style>
</head>
<body>
<header>
  <h1>Meross simulator</h1>
  <span class="sub">virtual bulbs, plugs, garage doors and shutters speaking the local Meross protocol</span>
  <span class="live" id="live"><span class="dot"></span><span id="live-text">connecting…</span></span>
</header>
<main id="devices"><div class="empty">Waiting for devices…</div></main>
<footer>Send requests to each device's address (<code>POST http://&lt;address&gt;/config</code>).
The buttons act like the physical button on the device.</footer>
<script>
(function () {
  "use strict";
  var main = document.getElementById("devices");
  var live = document.getElementById("live");
  var liveText = document.getElementById("live-text");
  var cards = {};
  // The simulator refuses a POST without this header: another site cannot send it without asking (CORS).
  var SIM_HEADERS = { "X-Meross-Simulator": "1" };

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "className") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function press(uuid, channel, action) {
    var q = "?channel=" + channel + (action ? "&action=" + encodeURIComponent(action) : "");
    fetch("/api/devices/" + encodeURIComponent(uuid) + "/press" + q, { method: "POST", headers: SIM_HEADERS }).catch(function () {});
  }

  function advanceDay(uuid) {
    fetch("/api/devices/" + encodeURIComponent(uuid) + "/advance?seconds=86400", { method: "POST", headers: SIM_HEADERS }).catch(function () {});
  }

  function post(uuid, action, query) {
    fetch("/api/devices/" + encodeURIComponent(uuid) + "/" + action + "?" + query, { method: "POST", headers: SIM_HEADERS }).catch(function () {});
  }

  function button(id, text, fn) {
    var b = el("button", { className: "press", "data-testid": id, text: text });
    b.addEventListener("click", fn);
    return b;
  }

  function fact(label, value) {
    return [el("span", { text: label }), el("b", { text: value })];
  }

  function render(d) {
    var card = cards[d.uuid];
    if (!card) {
      card = el("section", { className: "card", "data-uuid": d.uuid });
      cards[d.uuid] = card;
    }
    card.setAttribute("data-mode", d.mode);
    card.textContent = "";
    var top = el("div", { className: "top" }, [
      el("div", {}, [el("div", { className: "name", text: d.name }), el("div", { className: "model", text: d.model + " · " + d.type })]),
      el("div", { className: "badges" }, [
        el("span", { className: "badge " + d.mode, text: d.mode === "ap" ? "AP MODE" : "ONLINE" }),
        d.mqtt && d.mqtt !== "disabled"
          ? el("span", {
              className: "badge mqtt", "data-testid": "mqtt-" + d.uuid, "data-state": d.mqtt,
              title: "connection to the MQTT broker", text: "MQTT " + d.mqtt,
            })
          : null
      ])
    ]);
    card.appendChild(top);
    var visual = el("div", { className: "visual" });
    var stateText;
    if (d.light) {
      var l = d.light;
      var bulb = el("div", {
        className: "bulb",
        "data-testid": "bulb-" + d.uuid,
        "data-rgb": l.rgb,
        "data-on": String(l.on),
        "data-brightness": String(l.brightness),
        "data-mode": l.mode,
        title: l.mode === "colour" ? "colour " + l.rgb : "white " + l.temperature + " K"
      });
      bulb.style.background = "radial-gradient(circle at 40% 35%, #ffffff 0%, " + l.display + " 45%, " + l.display + " 100%)";
      bulb.style.opacity = String(0.35 + 0.65 * l.brightness / 100);
      bulb.style.boxShadow = "0 0 " + (10 + l.brightness / 2) + "px " + (l.brightness / 5) + "px " + l.display;
      visual.appendChild(bulb);
      var shade = l.mode === "colour" ? "colour " + l.rgb : "white ≈" + l.temperature + " K";
      stateText = l.on ? shade + " · " + l.brightness + "%" : "off";
    } else if (d.covers && d.covers.length) {
      var box = el("div", { className: "covers" });
      d.covers.forEach(function (c) {
        // The panel hangs from the top: a closed door or shutter fills the frame, an open one is rolled up.
        var panel = el("div", { className: "panel" });
        panel.style.height = (100 - c.position) + "%";
        var frame = el("div", { className: "frame", title: c.kind === "garage" ? "garage door" : "roller shutter" }, [panel]);
        var buttons = el("div", { className: "moves" });
        if (c.kind === "garage") {
          var b = el("button", {
            className: "press", "data-testid": "garage-" + d.uuid + "-" + c.channel, text: "Press the garage button"
          });
          b.addEventListener("click", function () { press(d.uuid, c.channel); });
          buttons.appendChild(b);
        } else {
          [["open", "▲ Up"], ["stop", "■ Stop"], ["close", "▼ Down"]].forEach(function (a) {
            var m = el("button", { className: "press", "data-testid": "roller-" + d.uuid + "-" + c.channel + "-" + a[0], text: a[1] });
            m.addEventListener("click", function () { press(d.uuid, c.channel, a[0]); });
            buttons.appendChild(m);
          });
        }
        var what = c.state + (c.state === "open" || c.state === "closed" ? "" : " · " + c.position + "% open");
        box.appendChild(el("div", { className: "cover", "data-testid": "cover-" + d.uuid + "-" + c.channel, "data-state": c.state,
          "data-position": String(c.position) }, [frame, el("span", { text: what }), buttons]));
      });
      visual.appendChild(box);
      stateText = d.covers.map(function (c) { return c.state; }).join(" · ");
    } else {
      var sws = el("div", { className: "switches" });
      d.channels.forEach(function (c) {
        var t = el("button", {
          className: "track",
          "data-testid": "switch-" + d.uuid + "-" + c.channel,
          "data-on": String(c.on),
          "aria-label": "channel " + c.channel + (c.on ? " on" : " off"),
          title: "press the button of channel " + c.channel
        });
        t.addEventListener("click", function () { press(d.uuid, c.channel); });
        var label = (d.channels.length > 1 ? "outlet " + (c.channel + 1) + " · " : "") + (c.on ? "ON" : "OFF");
        sws.appendChild(el("div", { className: "sw" }, [t, el("span", { text: label })]));
      });
      visual.appendChild(sws);
      var on = d.channels.filter(function (c) { return c.on; }).length;
      stateText = d.channels.length > 1 ? on + " of " + d.channels.length + " outlets on" : (on ? "on" : "off");
      if (d.channels.length === 0) stateText = "measuring";
    }
    if (d.climate) {
      var c = d.climate;
      stateText = c.on
        ? c.current + " °C → " + c.target + " °C · " + c.mode + (c.heating ? " · heating" : " · idle")
        : "off · " + c.current + " °C";
      if (c.windowOpen) stateText += " · window open";
    }
    if (d.diffuser) stateText = "spray " + d.diffuser.spray + (d.diffuser.light.on ? " · light " + d.diffuser.light.rgb : " · light off");
    if (d.hub) {
      stateText = d.hub.length + " sub-devices";
      // One line per sub-device, its id set apart: side by side the ids ran together.
      var subs = el("div", { className: "subs" });
      d.hub.forEach(function (h) {
        var txt = h.type + " · " + h.battery + "%";
        if (h.temperature !== undefined) txt += " · " + h.temperature + " °C " + h.humidity + " %";
        if (h.leak !== undefined) txt += h.leak ? " · LEAK" : " · dry";
        if (h.open !== undefined) txt += h.open ? " · open" : " · closed";
        if (h.smoke !== undefined) txt += " · " + h.smoke;
        if (h.valve) txt += " · " + h.valve.current + " → " + h.valve.target + " °C" + (h.valve.heating ? " heating" : "");
        subs.appendChild(el("div", { className: "subdev", "data-testid": "sub-" + d.uuid + "-" + h.id, "data-leak": String(!!h.leak) },
          [el("b", { text: h.id }), el("span", { text: txt })]));
      });
      visual.appendChild(subs);
    }
    card.appendChild(visual);
    if (d.electricity) stateText += " · " + d.electricity.watts.toFixed(1) + " W · " + d.electricity.volts.toFixed(1) + " V";
    card.appendChild(el("div", { className: "state", "data-testid": "state-" + d.uuid, text: stateText }));
    var facts = el("div", { className: "facts" });
    fact("address", d.address).concat(fact("uuid", d.uuid)).concat(fact("Wi-Fi", d.wifi || "—"))
      .forEach(function (n) { facts.appendChild(n); });
    card.appendChild(facts);
    if ((!d.covers || !d.covers.length) && d.channels.length > 0) {
      var btn = el("button", { className: "press", "data-testid": "press-" + d.uuid, text: "Press the device button" });
      btn.addEventListener("click", function () { press(d.uuid, 0); });
      card.appendChild(btn);
    }
    if (d.electricity) {
      // Energy counters roll over at the device's midnight: a day in one click instead of a day of waiting.
      var day = el("button", { className: "press", "data-testid": "advance-" + d.uuid, text: "Skip a day ahead" });
      day.addEventListener("click", function () { advanceDay(d.uuid); });
      card.appendChild(day);
    }
    if (d.climate) {
      var w = d.climate.windowOpen;
      card.appendChild(button("window-" + d.uuid, w ? "Close the window" : "Open the window", function () {
        post(d.uuid, "window", "open=" + (w ? "0" : "1"));
      }));
    }
    if (d.hub) {
      d.hub.filter(function (h) { return h.leak !== undefined; }).forEach(function (h) {
        card.appendChild(button("leak-" + d.uuid + "-" + h.id, h.leak ? "Dry leak sensor " + h.id : "Trigger leak", function () {
          post(d.uuid, "leak", "sub=" + encodeURIComponent(h.id) + "&on=" + (h.leak ? "0" : "1"));
        }));
      });
      d.hub.filter(function (h) { return h.open !== undefined; }).forEach(function (h) {
        card.appendChild(button("door-" + d.uuid + "-" + h.id, h.open ? "Close the door " + h.id : "Open the door " + h.id, function () {
          post(d.uuid, "door", "sub=" + encodeURIComponent(h.id) + "&open=" + (h.open ? "0" : "1"));
        }));
      });
      d.hub.filter(function (h) { return h.smoke !== undefined; }).forEach(function (h) {
        var sub = "sub=" + encodeURIComponent(h.id) + "&do=";
        card.appendChild(button("smoke-test-" + d.uuid + "-" + h.id, "Run a smoke test", function () {
          post(d.uuid, "smoke", sub + "test");
        }));
        var sounding = h.smoke !== "normal" && h.smoke !== "test";
        card.appendChild(button("smoke-" + d.uuid + "-" + h.id, sounding ? "Clear the smoke alarm" : "Raise a smoke alarm", function () {
          post(d.uuid, "smoke", sub + (sounding ? "clear" : "alarm"));
        }));
      });
    }
    if (d.climate || d.hub) {
      // Rooms warm and batteries drain in simulated time: an hour in one click.
      card.appendChild(button("hour-" + d.uuid, "Skip an hour ahead", function () { post(d.uuid, "advance", "seconds=3600"); }));
    }
    // A real device's factory reset: its button held for about 5 s. It forgets key, broker and Wi-Fi.
    var reset = button("reset-" + d.uuid, "Hold the button 5 s (factory reset)", function () { post(d.uuid, "reset", ""); });
    reset.title = "Back to access-point mode with no key, as out of the box";
    card.appendChild(reset);
    return card;
  }

  function show(snapshot) {
    var list = snapshot.devices || [];
    if (list.length === 0) { main.innerHTML = '<div class="empty">No simulated devices.</div>'; return; }
    var empty = main.querySelector(".empty");
    if (empty) main.removeChild(empty);
    list.forEach(function (d) {
      var card = render(d);
      if (card.parentNode !== main) main.appendChild(card);
    });
  }

  function connect() {
    var es = new EventSource("/events");
    es.onopen = function () { live.className = "live ok"; liveText.textContent = "live"; };
    es.onmessage = function (ev) { try { show(JSON.parse(ev.data)); } catch (e) {} };
    es.onerror = function () { live.className = "live"; liveText.textContent = "reconnecting…"; };
  }

  fetch("/api/devices").then(function (r) { return r.json(); })
  .then(function (devices) { show({ devices: devices }); }).catch(function () {});
  connect();
})();
</script>
</body>
</html>
`;

/** The one inline script of the page, allowed by its hash and nothing else. */
const SCRIPT = /<script>([\s\S]*?)<\/script>/.exec(STATUS_PAGE_HTML)?.[1] ?? "";

/** Headers of every answer: no framing, no sniffing, and the page runs only its own script and talks only to its origin. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; " +
    `script-src 'sha256-${createHash("sha256").update(SCRIPT).digest("base64")}'; ` +
    "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** The header a status-page POST must carry (the page's own script sends it). */
export const SIM_POST_HEADER = "x-meross-simulator";

/**
 * Why a POST to the status page is refused, or undefined: a browser on another site (or a name
 * re-pointed at this machine) must not switch simulated devices. Its script cannot add a custom
 * header without a CORS preflight we never answer, and browsers say where a request comes from.
 */
export function crossOriginProblem(headers: Record<string, string | string[] | undefined>): string | undefined {
  if (headers[SIM_POST_HEADER] === undefined) return "POST needs the X-Meross-Simulator header the status page sends";
  const site = headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return "cross-site requests are refused";
  const host = String(headers.host ?? "");
  const origin = headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return "requests from another origin are refused";
  // A host name re-pointed at this machine (DNS rebinding) would look same-origin: only addresses and localhost pass.
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  if (!/^(localhost|[\d.]+|[0-9a-f:]+)$/i.test(name)) return `the Host ${name} is not this machine's address`;
  return undefined;
}
