// The history timeline of /u/:id: reads GET /v1/users/:id/history (the
// last 7 days) and draws a status band, one bar lane per activity and a
// tick per day as inline SVG, then lists the time per activity. Text
// from the API only ever goes into textContent.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var section = document.getElementById("history");
  var state = document.getElementById("history-state");
  var box = document.getElementById("timeline-box");
  var totalsList = document.getElementById("totals");
  var user = section.dataset.user;
  var STATUS_WORDS = { online: "online", idle: "idle", dnd: "do not disturb", offline: "offline" };
  var VERBS = { 0: "Playing", 1: "Streaming", 2: "Listening to", 3: "Watching", 5: "Competing in" };

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function duration(ms) {
    var min = Math.round(ms / 60000);
    var h = Math.floor(min / 60), m = min % 60;
    if (h === 0) return m + " min";
    return m === 0 ? h + " h" : h + " h " + m + " min";
  }

  function when(ms) {
    return new Date(ms).toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }

  // chart draws [from, to] of data as an SVG with the given id; ticks
  // returns the tick times and label of each.
  function chart(data, from, to, id, caption, ticks) {
    var lanes = [], laneOf = {};
    data.activities.forEach(function (a) {
      if (a.end !== null && a.end <= from) return;
      var key = a.type + "\u0000" + a.name;
      if (!(key in laneOf)) { laneOf[key] = lanes.length; lanes.push(a); }
    });
    var W = 900, LEFT = 170, RIGHT = 12, TOP = 26, ROW = 26, BAR = 16;
    var H = TOP + ROW * (1 + lanes.length) + 8;
    var x = function (t) { return LEFT + (Math.min(Math.max(t, from), to) - from) / (to - from) * (W - LEFT - RIGHT); };
    var svg = el("svg", { id: id, viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": caption + ": status and activities from " + new Date(from).toLocaleString() + " to " + new Date(to).toLocaleString() });

    var g = el("g", { "class": "tick" });
    ticks(from, to).forEach(function (tk) {
      var tx = x(tk.t);
      g.appendChild(el("line", { x1: tx, x2: tx, y1: TOP - 6, y2: H - 4 }));
      // A label that would run past the right edge is left out (its
      // tick stays), rather than overlap the one before.
      if (tx + 72 <= W) {
        g.appendChild(el("text", { "class": "tick-label " + tk.cls, x: tx + 3, y: TOP - 10 }, tk.label));
      }
    });
    svg.appendChild(g);

    function lane(row, label) {
      var y = TOP + row * ROW;
      svg.appendChild(el("rect", { "class": "lane", x: LEFT, y: y, width: W - LEFT - RIGHT, height: BAR, rx: 3 }));
      svg.appendChild(el("text", { "class": "lane-label", x: LEFT - 8, y: y + BAR - 4, "text-anchor": "end" }, label));
      return y;
    }
    function bar(y, cls, start, end, title, extra) {
      var stop = end === null ? Math.min(to, Date.now()) : end;
      if (stop <= from || start >= to) return;
      var x0 = x(start), w = Math.max(x(stop) - x0, 1);
      var r = el("rect", Object.assign({ "class": cls, x: x0, y: y, width: w, height: BAR, rx: 2 }, extra));
      r.appendChild(el("title", {}, title + " · " + when(start) + " – " + (end === null ? "now" : when(end))));
      svg.appendChild(r);
    }

    var sy = lane(0, "Status");
    data.status.forEach(function (s) {
      bar(sy, "status " + s.status, s.start, s.end, STATUS_WORDS[s.status] || s.status, { "data-status": s.status });
    });
    lanes.forEach(function (a, i) {
      var y = lane(i + 1, a.name.length > 24 ? a.name.slice(0, 23) + "…" : a.name);
      data.activities.forEach(function (b) {
        if (b.type === a.type && b.name === a.name) {
          bar(y, "activity", b.start, b.end, (VERBS[b.type] || "Playing") + " " + b.name, { "data-name": b.name });
        }
      });
    });
    return svg;
  }

  // dayTicks: each local midnight, labelled with the day.
  function dayTicks(from, to) {
    var out = [], d = new Date(from);
    d.setHours(24, 0, 0, 0);
    for (; d.getTime() < to; d.setDate(d.getDate() + 1)) {
      out.push({ t: d.getTime(), cls: "day-tick", label: d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" }) });
    }
    return out;
  }

  // hourTicks: every third local hour.
  function hourTicks(from, to) {
    var out = [], d = new Date(from);
    d.setMinutes(0, 0, 0);
    d.setHours(d.getHours() + 1);
    for (; d.getTime() < to; d.setHours(d.getHours() + 1)) {
      if (d.getHours() % 3 === 0) {
        out.push({ t: d.getTime(), cls: "hour-tick", label: d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) });
      }
    }
    return out;
  }

  function heading(text) {
    var h = document.createElement("h3");
    h.textContent = text;
    return h;
  }

  function draw(data) {
    var from = data.from, to = data.to;
    box.appendChild(chart(data, from, to, "timeline", "Last 7 days", dayTicks));
    // The last day again, wide enough to see changes of minutes.
    box.appendChild(heading("Last 24 hours"));
    box.appendChild(chart(data, Math.max(from, to - 86400000), to, "timeline-day", "Last 24 hours", hourTicks));

    var legend = document.createElement("div");
    legend.className = "legend";
    ["online", "idle", "dnd", "offline"].forEach(function (s) {
      var item = document.createElement("span");
      var dot = document.createElement("span");
      dot.className = "dot " + s;
      item.appendChild(dot);
      item.appendChild(document.createTextNode(STATUS_WORDS[s]));
      legend.appendChild(item);
    });
    box.appendChild(legend);

    data.totals.forEach(function (t) {
      var li = document.createElement("li");
      li.dataset.name = t.name;
      li.dataset.ms = String(t.ms);
      var name = document.createElement("span");
      name.textContent = (VERBS[t.type] || "Playing") + " " + t.name;
      var dur = document.createElement("span");
      dur.className = "dur";
      dur.textContent = duration(t.ms);
      li.appendChild(name);
      li.appendChild(dur);
      totalsList.appendChild(li);
    });
    if (data.totals.length === 0) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "No activity recorded in these 7 days.";
      totalsList.appendChild(none);
    }
    state.textContent = data.status.length ? "" : "Nothing recorded in these 7 days yet.";
    state.hidden = data.status.length > 0;
    section.dataset.drawn = "true";
  }

  fetch("/v1/users/" + encodeURIComponent(user) + "/history", { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
    .then(function (res) {
      if (!res.ok || !res.body.success) {
        state.textContent = res.body && res.body.error && res.body.error.code === "history_disabled"
          ? "History is private." : "The timeline could not be loaded.";
        section.dataset.drawn = "error";
        return;
      }
      draw(res.body.data);
    })
    .catch(function () {
      state.textContent = "The timeline could not be loaded.";
      section.dataset.drawn = "error";
    });
})();
