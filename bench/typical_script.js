// A typical backend script (bench): reads 3 session keys, writes 2, four setVariable calls
// (one an object with a 20-item array), one cookie, two console.log.
var visits = session.get("visits") || 0;
var source = session.get("utm_source") || request.query.utm_source || "direct";
var cart = session.get("cart") || { items: [] };

visits = visits + 1;
session.set("visits", visits);
session.set("last_seen", Date.now());

var products = [];
for (var i = 0; i < 20; i++) {
  products.push({ id: "p" + i, name: "Product " + i, price: 10 + i * 2.5, featured: i % 3 === 0 });
}

setVariable("visits", visits);
setVariable("source", source);
setVariable("cart_count", cart.items.length);
setVariable("catalog", { title: "Our products", updated: "2026-11-25", products: products });

cookie.set("seen_offer", "yes", { maxAge: 3600 });

console.log("visit", visits, "from", source);
console.log("cart", cart);

if (visits > 1000000) {
  redirect("/too-many");
}
