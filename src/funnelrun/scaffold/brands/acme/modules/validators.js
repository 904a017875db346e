// Shared checks for backend scripts: `import { isEmail } from "validators"`.

export function isEmail(value) {
  return typeof value === "string" && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
}

export function cleanName(value) {
  return typeof value === "string" ? value.trim().slice(0, 80) : "";
}
