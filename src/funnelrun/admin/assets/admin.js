// The debug window's list follows new requests: server-sent events from /_funnelrun/api/live,
// or, where those cannot be had, a poll of /_funnelrun/api/requests?after=… every 2 seconds.
// Rows are built with textContent only: nothing a visitor sent is ever read as markup.
"use strict";

(function () {
  const live = document.getElementById("live");
  const rows = document.getElementById("rows");
  if (!live || !rows) return;
  const query = live.dataset.query || "";
  let after = live.dataset.after || "";
  const FAILED = new Set(["error", "timeout", "memory", "crash"]);

  // Control characters, format characters and odd spaces as escapes, as the server shows them.
  const HIDDEN = /[^\P{C}\n\t]|[^\P{Z} ]/gu;
  function visible(text) {
    return String(text).replace(HIDDEN, (ch) => {
      const code = ch.codePointAt(0);
      if (code < 0x100) return "\\x" + code.toString(16).padStart(2, "0");
      if (code < 0x10000) return "\\u" + code.toString(16).padStart(4, "0");
      return "\\U" + code.toString(16).padStart(8, "0");
    });
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    if (className) td.className = className;
    if (text !== undefined) td.textContent = text;
    return td;
  }

  function link(parent, href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    parent.appendChild(a);
    return a;
  }

  function addRow(request) {
    if (rows.querySelector('tr[data-request-id="' + CSS.escape(request.request_id) + '"]')) return;
    const href = "/_funnelrun/requests/" + encodeURIComponent(request.request_id);
    const row = rows.insertRow(0);
    row.dataset.requestId = request.request_id;
    row.className = "new" + (request.error ? " error" : "");
    const time = document.createElement("time");
    time.dateTime = request.time;
    time.textContent = request.time.replace("T", " ").replace("Z", "");
    link(cell(row), href, "").appendChild(time);
    cell(row, visible(request.brand));
    cell(row, visible(request.method));
    const path = cell(row, undefined, "path");
    link(path, href, visible(request.path.slice(0, 200)));
    if (request.path.length > 200) {
      const more = document.createElement("span");
      more.className = "more";
      more.textContent = "…";
      path.appendChild(more);
    }
    cell(row, String(request.status), "status s" + Math.floor(request.status / 100));
    cell(row, request.duration_ms.toFixed(1) + " ms", "num");
    const outcome = cell(row);
    if (request.outcome) {
      const badge = document.createElement("span");
      badge.className = "outcome" + (FAILED.has(request.outcome) ? " bad" : "");
      badge.textContent = request.outcome;
      outcome.appendChild(badge);
    }
    cell(row, String(request.event_count), "num");
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
  }

  function state(text, className) {
    live.textContent = text;
    live.className = "live " + className;
  }

  function poll() {
    state("updating every 2 s", "polling");
    const next = () => setTimeout(tick, 2000);
    function tick() {
      const params = new URLSearchParams(query);
      if (after) params.set("after", after);
      fetch("/_funnelrun/api/requests?" + params, { credentials: "same-origin" })
        .then((answer) => (answer.ok ? answer.json() : Promise.reject(answer.status)))
        .then((page) => {
          page.requests.slice().reverse().forEach(addRow);
          if (page.newest) after = page.newest;
          state("updating every 2 s", "polling");
        })
        .catch(() => state("not updating (reload the page)", "off"))
        .finally(next);
    }
    tick();
  }

  if (!("EventSource" in window)) {
    poll();
    return;
  }
  const params = new URLSearchParams(query);
  if (after) params.set("after", after);
  let failures = 0;
  const source = new EventSource("/_funnelrun/api/live?" + params);
  source.onopen = () => {
    failures = 0;
    state("live", "on");
  };
  source.addEventListener("request", (message) => {
    const request = JSON.parse(message.data);
    after = request.cursor;
    addRow(request);
  });
  source.onerror = () => {
    // EventSource reconnects by itself (resuming after the last event); after repeated
    // failures, or when it gives up, poll instead.
    failures += 1;
    if (source.readyState === EventSource.CLOSED || failures >= 3) {
      source.close();
      poll();
    } else {
      state("reconnecting…", "polling");
    }
  };
})();
