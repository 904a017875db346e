// The brand's two domains, paired for the cross-domain login (pages/continue.html): a login on
// one is handed to the other. Keep this in step with `domains` in brand.toml. On a real site
// the values would be origins such as "https://members.acme.com".
const PARTNERS = {
  "localhost": "http://127.0.0.1",
  "127.0.0.1": "http://localhost",
};

// The origin to hand a login to from the Host this request came in on ("localhost:8000"),
// with the same port; null for a host that has no partner.
export function partnerOrigin(host) {
  var match = /^([a-z0-9.-]+)(:\d{1,5})?$/i.exec(host || "");
  if (!match || !Object.hasOwn(PARTNERS, match[1].toLowerCase())) return null;
  return PARTNERS[match[1].toLowerCase()] + (match[2] || "");
}
