// Shared checks for backend scripts: `import { isEmail } from "validators"`.

export function isEmail(value) {
  return typeof value === "string" && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
}

export function cleanName(value) {
  return typeof value === "string" ? value.trim().slice(0, 80) : "";
}

// A path on this site to go on to ("/members"), else `fallback`. Only letters, digits and
// "-._~/" pass, and no "//" or "..": a visitor's `next` can never lead to another site.
export function localPath(value, fallback) {
  var ok = typeof value === "string" && value.length <= 200 && /^\/[\w\-.~\/]*$/.test(value)
    && value.indexOf("//") < 0 && value.indexOf("..") < 0;
  return ok ? value : fallback;
}
