// The page-events panel: added by funnelrun to the pages an admin views. It does nothing until
// Ctrl+Shift+F12 (Cmd+Shift+F12 on a Mac), then shows this very request's events, read from
// the debug window's API. Its markup lives in a closed shadow root, apart from the page's own
// styles and scripts; everything it shows is set as text.
"use strict";

(function () {
  const script = document.currentScript;
  const requestId = script && script.dataset.requestId;
  if (!requestId) return;
  const FAILED = new Set(["error", "timeout", "memory", "crash"]);
  const HIDDEN = /[^\P{C}\n\t]|[^\P{Z} ]/gu;
  const SHOWN = 2000;
  // Fields shown in a place of their own, or not at all (as on the debug window's pages).
  const OWN_PLACE = ["type", "at_ms", "console", "applied", "error", "message", "file", "line",
                     "column", "source_line", "console_dropped", "applied_dropped"];
  let host = null;
  let body = null;

  function visible(value) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    const cut = text.length > SHOWN ? text.slice(0, SHOWN) + " … (" + (text.length - SHOWN) +
      " more characters in the export)" : text;
    return cut.replace(HIDDEN, (ch) => {  // as the debug window's pages write them
      const code = ch.codePointAt(0);
      if (code < 0x100) return "\\x" + code.toString(16).padStart(2, "0");
      if (code < 0x10000) return "\\u" + code.toString(16).padStart(4, "0");
      return "\\U" + code.toString(16).padStart(8, "0");
    });
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = visible(text);
    return node;
  }

  function build() {
    host = document.createElement("funnelrun-page-events");
    const root = host.attachShadow({ mode: "closed" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "/_funnelrun/assets/panel.css";
    root.appendChild(style);
    const panel = element("section", "panel");
    panel.hidden = true;  // until its styles are in: never a flash of it unstyled
    style.addEventListener("load", () => { panel.hidden = false; });
    style.addEventListener("error", () => { panel.hidden = false; });
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Page events");
    const head = element("header");
    head.appendChild(element("strong", "", "Page events"));
    const open = element("a", "open", "Open in the debug window");
    open.href = "/_funnelrun/requests/" + encodeURIComponent(requestId);
    open.target = "_blank";
    open.rel = "noopener";
    head.appendChild(open);
    const close = element("button", "close", "×");
    close.type = "button";
    close.title = "Close (Ctrl+Shift+F12)";
    close.addEventListener("click", toggle);
    head.appendChild(close);
    panel.appendChild(head);
    body = element("div", "body", "Loading…");
    panel.appendChild(body);
    root.appendChild(panel);
    document.documentElement.appendChild(host);
    load(0);
  }

  function load(attempt) {
    fetch("/_funnelrun/api/requests/" + encodeURIComponent(requestId), { credentials: "same-origin" })
      .then((answer) => {
        if (answer.status === 404 && attempt < 10) {
          setTimeout(() => load(attempt + 1), 300); // recorded a moment after the page is sent
          return null;
        }
        return answer.ok ? answer.json() : Promise.reject(new Error("HTTP " + answer.status));
      })
      .then((record) => record && show(record))
      .catch((error) => {
        body.textContent = "";
        body.appendChild(element("p", "bad", "The events could not be read: " + error.message));
      });
  }

  function show(record) {
    body.textContent = "";
    const summary = element("p", "summary");
    summary.appendChild(element("span", "status s" + Math.floor(record.status / 100), String(record.status)));
    summary.appendChild(element("span", "", record.method + " " + record.path));
    summary.appendChild(element("span", "", record.duration_ms.toFixed(1) + " ms"));
    if (record.outcome) {
      summary.appendChild(element("span", FAILED.has(record.outcome) ? "outcome bad" : "outcome",
        "script " + record.outcome));
    }
    body.appendChild(summary);
    const list = element("ol", "events");
    for (const event of record.events) list.appendChild(item(event));
    body.appendChild(list);
  }

  function item(event) {
    const error = event.type === "script" ? event.error :
      (event.type === "template_error" || event.type === "internal_error") ? event : null;
    const failed = error || (event.type === "script" && FAILED.has(event.outcome));
    const warned = event.type === "warning" || event.type === "truncated";
    const li = element("li", failed ? "bad" : warned ? "warn" : "");
    const title = element("div", "title");
    title.appendChild(element("span", "type", event.type));
    if (typeof event.at_ms === "number") title.appendChild(element("span", "at", "+" + event.at_ms.toFixed(2) + " ms"));
    li.appendChild(title);
    const details = [];
    for (const [name, value] of Object.entries(event)) {
      if (OWN_PLACE.includes(name)) continue;
      details.push(name + ": " + (typeof value === "string" ? value : JSON.stringify(value)));
    }
    if (details.length) li.appendChild(element("div", "details", details.join("  ·  ")));
    if (error) {
      const where = [error.file, error.line, error.column].filter((part) => part !== undefined && part !== null).join(":");
      if (where) li.appendChild(element("div", "where", where));
      li.appendChild(element("div", "message", error.message || ""));
      if (typeof error.source_line === "string") li.appendChild(element("pre", "source", error.source_line));
    }
    if (Array.isArray(event.console) && event.console.length) {
      const lines = element("ol", "console");
      for (const line of event.console) {
        const entry = element("li", "level-" + (["log", "info", "warn", "error", "debug"].includes(line.level) ? line.level : "log"));
        entry.appendChild(element("span", "level", line.level));
        entry.appendChild(element("pre", "", line.text));
        lines.appendChild(entry);
      }
      li.appendChild(lines);
    }
    if (Array.isArray(event.applied) && event.applied.length) {
      li.appendChild(element("div", "details", "applied: " + event.applied.map((a) => a.call).join(", ")));
    }
    return li;
  }

  function toggle() {
    if (!host) build();
    else host.hidden = !host.hidden;
  }

  document.addEventListener("keydown", (key) => {
    if ((key.ctrlKey || key.metaKey) && key.shiftKey && key.key === "F12") {
      key.preventDefault();
      toggle();
    }
  });
})();
