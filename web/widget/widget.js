/*! Halyard presence widget: <halyard-presence user="ID">. No dependencies; served by Halyard at /widget.js.
 * Attributes: user (Discord id), theme="dark|light|auto", compact, hide="activity,spotify,custom", api="https://…".
 * Every element on a page shares one Lanyard socket per API base (subscribe_to_ids); REST polling when sockets fail. */
(() => {
  "use strict";
  if (!window.customElements || customElements.get("halyard-presence")) return;

  // CDN is rewritten by the server when it is configured with another Discord CDN.
  const CDN = "https://cdn.discordapp.com";
  const MEDIA = CDN === "https://cdn.discordapp.com" ? "https://media.discordapp.net" : CDN;
  const POLL_MS = 15000;
  const RETRY_MAX_MS = 30000;

  // The API base is where this script came from, so a page on any origin talks to its Halyard.
  const self = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const scriptBase = (() => {
    try {
      const u = new URL(self.src, location.href);
      return u.origin + u.pathname.replace(/\/widget\.js$/, "");
    } catch (e) {
      return location.origin;
    }
  })();

  // Hub: one socket per API base, shared by every element using that base.
  class Hub {
    constructor(base) {
      this.base = base;
      this.els = new Map(); // user id → Set of elements
      this.data = new Map(); // user id → presence, or null when not monitored
      this.asked = []; // ids of the last subscribe
      this.tries = 0;
    }

    add(id, el) {
      let set = this.els.get(id);
      if (!set) this.els.set(id, (set = new Set()));
      set.add(el);
      if (this.data.has(id)) el.show(this.data.get(id));
      this.connect();
      this.sync();
      if (this.poller) this.pollOnce();
    }

    remove(id, el) {
      const set = this.els.get(id);
      if (!set || !set.delete(el) || set.size) return;
      this.els.delete(id);
      this.data.delete(id);
      this.asked = this.asked.filter((x) => x !== id);
      this.send({ op: 4, d: { unsubscribe_from_id: id } });
      // The last element gone (and not just moved in the page): let the socket go.
      setTimeout(() => this.els.size || this.close(), 1000);
    }

    close() {
      const ws = this.ws;
      this.ws = null;
      this.ready = false;
      clearInterval(this.beat);
      clearTimeout(this.timer);
      this.timer = 0;
      this.stopPolling();
      if (ws) ws.close(1000);
    }

    // sync subscribes to the full id list once per task, and only when an id is new.
    sync() {
      if (this.queued) return;
      this.queued = true;
      queueMicrotask(() => {
        this.queued = false;
        const ids = [...this.els.keys()];
        if (!this.ready || ids.every((id) => this.asked.includes(id))) return;
        this.asked = ids;
        this.send({ op: 2, d: { subscribe_to_ids: ids } });
      });
    }

    connect() {
      if (this.ws || this.timer || !this.els.size) return;
      if (!window.WebSocket) return this.startPolling();
      let ws;
      try {
        ws = new WebSocket(this.base.replace(/^http/, "ws") + "/socket");
      } catch (e) {
        return this.lost(null);
      }
      this.ws = ws;
      ws.onmessage = (ev) => this.ws === ws && this.receive(ev.data);
      ws.onclose = () => this.lost(ws);
    }

    receive(raw) {
      let m;
      try {
        m = JSON.parse(raw);
      } catch (e) {
        return;
      }
      const d = m && m.d;
      if (!d || typeof d !== "object") return;
      if (m.op === 1) {
        clearInterval(this.beat);
        const every = d.heartbeat_interval > 0 ? d.heartbeat_interval : 30000;
        this.beat = setInterval(() => this.send({ op: 3 }), every);
        this.ready = true;
        this.asked = [];
        this.sync();
      } else if (m.op === 0 && m.t === "INIT_STATE") {
        this.tries = 0;
        this.stopPolling();
        if (d.discord_user) return this.put(d.discord_user.id, d); // subscribe_to_id form
        for (const id of this.asked) if (!d[id]) this.put(id, null);
        for (const id in d) this.put(id, d[id]);
      } else if (m.op === 0 && m.t === "PRESENCE_UPDATE") {
        const id = d.user_id || (d.discord_user && d.discord_user.id);
        if (id) this.put(id, d);
      }
    }

    put(id, p) {
      const set = this.els.get(id);
      if (!set) return;
      this.data.set(id, p);
      for (const el of set) el.show(p);
    }

    send(msg) {
      if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
    }

    // lost schedules a reconnect with capped exponential backoff and jitter; after three
    // failures in a row the elements are kept fresh over REST until the socket is back.
    lost(ws) {
      if (ws && ws !== this.ws) return;
      clearInterval(this.beat);
      this.ws = null;
      this.ready = false;
      if (!this.els.size) return;
      const cap = Math.min(RETRY_MAX_MS, 500 * 2 ** this.tries++);
      if (this.tries >= 3) this.startPolling();
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.connect();
      }, cap / 2 + (Math.random() * cap) / 2);
    }

    reconnectNow() {
      if (this.ws || !this.timer) return;
      clearTimeout(this.timer);
      this.timer = 0;
      this.connect();
    }

    startPolling() {
      if (this.poller) return;
      this.poller = setInterval(() => this.pollOnce(), POLL_MS);
      this.pollOnce();
    }

    stopPolling() {
      clearInterval(this.poller);
      this.poller = 0;
    }

    pollOnce() {
      for (const id of this.els.keys()) {
        fetch(this.base + "/v1/users/" + encodeURIComponent(id))
          .then((r) => r.json().then((b) => (b && b.success ? this.put(id, b.data) : r.status === 404 && this.put(id, null))))
          .catch(() => {});
      }
    }
  }

  const hubs = new Map();
  const hubFor = (base) => {
    let hub = hubs.get(base);
    if (!hub) hubs.set(base, (hub = new Hub(base)));
    return hub;
  };
  window.addEventListener("online", () => hubs.forEach((h) => h.reconnectNow()));

  // One clock ticks every live element (elapsed times, progress bars).
  const live = new Set();
  let clock = 0;
  const tick = () => live.forEach((el) => el.tick());

  // Rendering helpers: text always goes through text nodes, never HTML.
  const h = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v != null && v !== false) e.setAttribute(k, v);
    }
    for (const c of kids.flat()) if (c != null && c !== false && c !== "") e.append(c);
    return e;
  };
  const ICONS = {
    desktop: "M4 4h16v11H4zM9 19h6M12 15v4",
    mobile: "M8 3h8v18H8zM11 18h2",
    web: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18",
    embedded: "M6 8h12a4 4 0 0 1 0 8H6a4 4 0 0 1 0-8M8 11v2M7 12h2M15 12h.01M17 12h.01",
    vr: "M3 8h18v8h-6l-3-3-3 3H3z",
    music: "M9 18V5l10-2v13M9 18a3 3 0 1 1-3-3a3 3 0 0 1 3 3M19 16a3 3 0 1 1-3-3a3 3 0 0 1 3 3",
    game: "M6 9h12a4 4 0 0 1 0 8l-2-2H8l-2 2a4 4 0 0 1 0-8M8 12v2M7 13h2M15 13h.01M17 13h.01",
  };
  const icon = (name, label) => {
    const s = h("span", label ? { class: "ic", role: "img", "aria-label": label, title: label } : { class: "ic", "aria-hidden": "true" });
    s.innerHTML = '<svg viewBox="0 0 24 24" width="16" height="16"><path d="' + ICONS[name] + '"/></svg>'; // constants only
    return s;
  };
  const img = (src, alt, cls, fallback) => {
    if (!src) return fallback();
    const e = h("img", { src, alt, class: cls, loading: "lazy", decoding: "async", referrerpolicy: "no-referrer" });
    e.onerror = () => e.replaceWith(fallback());
    return e;
  };
  const art = (kind) => () => h("span", { class: "art fb", role: "img", "aria-label": kind === "music" ? "No album art" : "No artwork" }, icon(kind));

  const STATUS = { online: "Online", idle: "Idle", dnd: "Do Not Disturb", offline: "Offline" };
  const VERB = { 0: "Playing", 1: "Streaming", 2: "Listening to", 3: "Watching", 5: "Competing in" };
  const PLATFORMS = [["desktop", "Desktop"], ["mobile", "Mobile"], ["web", "Web"], ["embedded", "Console"], ["vr", "VR"]];

  const avatarURL = (u) => {
    if (u.avatar) return CDN + "/avatars/" + u.id + "/" + u.avatar + (u.avatar.startsWith("a_") ? ".gif" : ".png") + "?size=128";
    let n = 0;
    try {
      n = !u.discriminator || u.discriminator === "0" ? Number((BigInt(u.id) >> 22n) % 6n) : Number(u.discriminator) % 5;
    } catch (e) {}
    return CDN + "/embed/avatars/" + n + ".png";
  };

  // assetURL resolves an activity image key (docs: Discord "activity asset image").
  const assetURL = (a, key) => {
    if (!key || typeof key !== "string") return "";
    if (key.startsWith("mp:")) return MEDIA + "/" + key.slice(3);
    if (key.startsWith("spotify:")) return "https://i.scdn.co/image/" + key.slice(8);
    if (key.startsWith("youtube:")) return "https://i.ytimg.com/vi/" + key.slice(8) + "/hqdefault.jpg";
    if (/^\d+$/.test(key) && a.application_id) return CDN + "/app-assets/" + a.application_id + "/" + key + ".png?size=160";
    if (/^https:\/\//.test(key)) return key;
    return "";
  };

  const clockText = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    const p = (n) => String(n).padStart(2, "0");
    return (s >= 3600 ? Math.floor(s / 3600) + ":" + p(Math.floor(s / 60) % 60) : Math.floor(s / 60)) + ":" + p(s % 60);
  };

  const CSS = `
:host{--bg:#fff;--fg:#1f2328;--mut:#57606a;--bd:#d0d7de;--tr:#e6e9ed;--ac:#1a7f37;display:inline-block;max-width:100%;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg)}
:host([theme=dark]){--bg:#1e1f22;--fg:#f2f3f5;--mut:#b5bac1;--bd:#3f4147;--tr:#3f4147;--ac:#3fb950}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){--bg:#1e1f22;--fg:#f2f3f5;--mut:#b5bac1;--bd:#3f4147;--tr:#3f4147;--ac:#3fb950}}
.card{box-sizing:border-box;width:360px;max-width:100%;background:var(--bg);border:1px solid var(--bd);border-radius:12px;padding:14px}
.live{display:grid;gap:12px}
.head{display:flex;gap:12px;align-items:center;min-width:0}
.av{position:relative;flex:none;width:64px;height:64px}
.av>img:first-child,.av>.ini{width:64px;height:64px;border-radius:50%;display:block;object-fit:cover}
.ini{background:var(--tr);display:grid!important;place-items:center;font-weight:700;font-size:24px}
.deco{position:absolute;inset:-8px;width:80px;height:80px;pointer-events:none}
.dot{position:absolute;right:0;bottom:0;width:16px;height:16px;border-radius:50%;border:3px solid var(--bg);box-sizing:border-box}
.online{background:#23a55a}.idle{background:#f0b232}.dnd{background:#f23f43}.offline{background:#80848e}
.who{min-width:0;flex:1}
.name{font-weight:700;font-size:16px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sub,.muted{color:var(--mut);font-size:13px}
.sub{display:flex;gap:6px;align-items:center;flex-wrap:wrap}
.ic{display:inline-flex;color:var(--mut)}.ic svg{fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.custom{display:flex;gap:6px;align-items:center;overflow-wrap:anywhere}
.emo{width:20px;height:20px;object-fit:contain}
.sec{border-top:1px solid var(--bd);padding-top:10px;display:grid;gap:6px}
.label{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.04em;color:var(--mut)}
.row{display:flex;gap:10px;align-items:center;min-width:0}
.pic{position:relative;flex:none}
.art{width:56px;height:56px;border-radius:8px;object-fit:cover;display:block}
.fb{display:grid;place-items:center;background:var(--tr)}.fb .ic svg{width:28px;height:28px}
.small{position:absolute;right:-4px;bottom:-4px;width:22px;height:22px;border-radius:50%;border:2px solid var(--bg);background:var(--bg)}
.txt{min-width:0;flex:1}.txt>div{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.title{font-weight:600}
.bar{height:4px;border-radius:2px;background:var(--tr);overflow:hidden;margin-top:6px}.bar>i{display:block;height:100%;background:var(--ac)}
.times{display:flex;justify-content:space-between;font-size:11px;color:var(--mut);font-variant-numeric:tabular-nums}
:host([compact]) .card{width:auto;min-width:220px;padding:8px 14px 8px 8px;border-radius:999px}
:host([compact]) .av,:host([compact]) .av>img:first-child,:host([compact]) .av>.ini{width:36px;height:36px;font-size:16px}
:host([compact]) .deco{inset:-5px;width:46px;height:46px}
:host([compact]) .dot{width:12px;height:12px;border-width:2px}
:host([compact]) .name{font-size:14px}
:host([compact]) .sec,:host([compact]) .plat{display:none}
.err{color:var(--mut)}`;

  class HalyardPresence extends HTMLElement {
    static get observedAttributes() {
      return ["user", "api", "hide", "compact"];
    }

    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      const style = h("style");
      style.textContent = CSS;
      // The live region stays in place; only its children change, so screen readers announce updates.
      this.body = h("div", { class: "live", "aria-live": "polite" }, h("div", { class: "muted" }, "Loading presence…"));
      root.append(style, h("div", { class: "card", part: "card", role: "group", "aria-label": "Discord presence" }, this.body));
      this.ticks = [];
    }

    connectedCallback() {
      this.bind();
      live.add(this);
      if (!clock) clock = setInterval(tick, 1000);
    }

    disconnectedCallback() {
      this.unbind();
      live.delete(this);
      if (!live.size) clock = clearInterval(clock) || 0;
    }

    attributeChangedCallback(name) {
      if (!this.isConnected) return;
      if (name === "user" || name === "api") {
        this.unbind();
        this.bind();
      } else if (this.presence !== undefined) this.show(this.presence);
    }

    bind() {
      const id = (this.getAttribute("user") || "").trim();
      if (!/^\d{15,21}$/.test(id)) return this.fail("Set user to a Discord user id.");
      const api = (this.getAttribute("api") || "").trim().replace(/\/+$/, "");
      this.uid = id;
      this.hub = hubFor(/^https?:\/\//.test(api) ? api : scriptBase);
      this.hub.add(id, this);
    }

    unbind() {
      if (this.hub) this.hub.remove(this.uid, this);
      this.hub = null;
    }

    fail(text) {
      this.body.replaceChildren(h("div", { class: "err" }, text));
    }

    tick() {
      for (const f of this.ticks) f(Date.now());
    }

    show(p) {
      this.presence = p;
      this.ticks = [];
      if (!p || !p.discord_user) return this.fail("This user is not monitored by Halyard.");
      const hide = (this.getAttribute("hide") || "").toLowerCase().split(/[\s,]+/);
      const u = p.discord_user;
      const name = u.display_name || u.global_name || u.username || u.id;
      const status = STATUS[p.discord_status] ? p.discord_status : "offline";
      const acts = Array.isArray(p.activities) ? p.activities : [];
      const custom = acts.find((a) => a && a.type === 4);
      const main = acts.find((a) => a && VERB[a.type] && a.type !== 2);
      const listening = acts.filter((a) => a && a.type === 2);

      const deco = u.avatar_decoration_data && u.avatar_decoration_data.asset;
      const initial = () => h("span", { class: "ini", role: "img", "aria-label": name + "'s avatar" }, [...name][0] || "?");
      const av = h(
        "div",
        { class: "av", part: "avatar" },
        img(avatarURL(u), name + "'s avatar", "", initial),
        deco && img(CDN + "/avatar-decoration-presets/" + deco + ".png?size=96&passthrough=true", "", "deco", () => ""),
        h("span", { class: "dot " + status, role: "img", "aria-label": STATUS[status] })
      );
      const plats = PLATFORMS.filter(([k]) => p["active_on_discord_" + k]).map(([k, label]) => icon(k, "On " + label));
      const head = h(
        "div",
        { class: "head" },
        av,
        h(
          "div",
          { class: "who" },
          h("div", { class: "name", part: "name" }, name),
          h("div", { class: "sub" }, h("span", { class: "status" }, STATUS[status]), plats.length ? h("span", { class: "plat" }, plats) : null),
          custom && !hide.includes("custom") ? this.custom(custom, name) : null
        )
      );
      const parts = [head];
      if (main && !hide.includes("activity")) parts.push(this.activity(main));
      if (!hide.includes("spotify") && !hide.includes("listening")) {
        for (const a of listening) parts.push(this.listening(a, p));
      }
      this.body.replaceChildren(...parts);
      if (this.hasAttribute("compact")) {
        const line = (main && !hide.includes("activity") && VERB[main.type] + " " + main.name) ||
          (listening[0] && !hide.includes("spotify") && "Listening to " + (listening[0].details || listening[0].name));
        if (line) head.querySelector(".sub").append(h("span", { class: "line" }, "· " + line));
      }
      this.tick();
      this.dispatchEvent(new CustomEvent("presence", { detail: p }));
    }

    custom(a, name) {
      const e = a.emoji;
      let emo = null;
      if (e && e.id) emo = img(CDN + "/emojis/" + e.id + (e.animated ? ".gif" : ".webp") + "?size=48", ":" + (e.name || "emoji") + ":", "emo", () => ":" + (e.name || "") + ":");
      else if (e && e.name) emo = h("span", {}, e.name);
      return h("div", { class: "custom muted", part: "custom", title: name + "'s custom status" }, emo, a.state || "");
    }

    activity(a) {
      const big = assetURL(a, a.assets && a.assets.large_image);
      const small = assetURL(a, a.assets && a.assets.small_image);
      const time = h("div", { class: "muted elapsed", "aria-live": "off" });
      const ts = a.timestamps || {};
      this.ticks.push((now) => {
        time.textContent = ts.start ? clockText(now - ts.start) + " elapsed" : ts.end ? clockText(ts.end - now) + " left" : "";
      });
      return h(
        "div",
        { class: "sec activity", part: "activity" },
        h("div", { class: "label" }, VERB[a.type]),
        h(
          "div",
          { class: "row" },
          h(
            "div",
            { class: "pic" },
            img(big, (a.assets && a.assets.large_text) || a.name, "art", art("game")),
            small && img(small, (a.assets && a.assets.small_text) || "", "small", () => "")
          ),
          h("div", { class: "txt" }, h("div", { class: "title" }, a.name || ""), h("div", { class: "muted" }, a.details || ""), h("div", { class: "muted" }, a.state || ""), time)
        )
      );
    }

    listening(a, p) {
      const spotify = a.id === "spotify:1" && p.spotify;
      // Spotify local files have no album art and no track id: the fallback art stands in.
      const cover = spotify ? p.spotify.album_art_url : assetURL(a, a.assets && a.assets.large_image);
      const album = (a.assets && a.assets.large_text) || "";
      const ts = a.timestamps || {};
      const kids = [
        h("div", { class: "title" }, a.details || a.name || ""),
        a.state ? h("div", { class: "muted" }, "by " + a.state.replace(/;\s*/g, ", ")) : null,
        album && album !== a.details ? h("div", { class: "muted" }, "on " + album) : null,
      ];
      if (ts.start && ts.end && ts.end > ts.start) {
        const fill = h("i", { part: "progress" });
        const bar = h("div", { class: "bar", role: "progressbar", "aria-label": "Track progress", "aria-valuemin": "0", "aria-valuemax": "100", "aria-live": "off" }, fill);
        const at = h("span"), len = h("span", {}, clockText(ts.end - ts.start));
        this.ticks.push((now) => {
          const f = Math.min(1, Math.max(0, (now - ts.start) / (ts.end - ts.start)));
          fill.style.width = (f * 100).toFixed(2) + "%";
          bar.setAttribute("aria-valuenow", Math.round(f * 100));
          at.textContent = clockText(Math.min(now, ts.end) - ts.start);
        });
        kids.push(bar, h("div", { class: "times", "aria-hidden": "true" }, at, len));
      }
      return h(
        "div",
        { class: "sec listening", part: "listening" },
        h("div", { class: "label" }, "Listening to " + (a.name || "music")),
        h("div", { class: "row" }, h("div", { class: "pic" }, img(cover, album ? "Album art: " + album : "Album art", "art", art("music"))), h("div", { class: "txt" }, kids))
      );
    }
  }

  customElements.define("halyard-presence", HalyardPresence);
})();
