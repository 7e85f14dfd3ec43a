// The offline copy of the gate scanner and of spectators' order pages (served as /sw.js so
// that its scope is the whole site). What it keeps:
// - the scanner (/scan) and everything it needs to decide offline (its script, the offline
//   decision, jsQR, @noble/ed25519, styles, manifest and icons), fetched at install;
// - an order page with its QR codes, as last seen online (the page asks for its own copy);
// pages are fetched from the network first and answered from the copy when it fails;
// static files are answered from the copy and refreshed behind it. The API is never
// cached, except the QR images of an order page.
const CACHE = "events-offline-v1";
const SCANNER = [
  "/scan", "/static/app.css", "/static/scanner.css", "/static/scanner.js",
  "/static/checkin-decision.js", "/static/offline.js", "/static/vendor/jsQR.js",
  "/static/vendor/noble-ed25519.js", "/static/scanner.webmanifest",
  "/static/icons/scanner-192.png", "/static/icons/scanner-512.png",
];
const QR = /^\/api\/v1\/tickets\/[^/]+\/qr\.(svg|png)$/;
const PAGES = /^\/(scan|orders\/[^/]+)$/;

self.addEventListener("install", event => {
  event.waitUntil(caches.open(CACHE).then(cache => cache.addAll(SCANNER)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", event => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

// A page asks to keep itself and what it uses (styles, scripts, images) for offline use.
self.addEventListener("message", event => {
  const urls = event.data?.keep;
  if (!Array.isArray(urls)) return;
  event.waitUntil(caches.open(CACHE).then(cache => Promise.all(urls.map(async url => {
    const target = new URL(url, self.location.origin);
    if (target.origin !== self.location.origin) return;
    try {
      const response = await fetch(target, {credentials: "same-origin", cache: "no-store"});
      if (response.ok) await cache.put(target.href.split("#")[0], response);
    } catch {
      // offline right now: kept the next time
    }
  }))));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request) ?? await cache.match(request, {ignoreSearch: true});
    if (kept) return kept;
    throw error;
  }
}

async function keptFirst(request, event) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  const fresh = fetch(request).then(async response => {
    if (response.ok) await cache.put(request, response.clone());
    return response;
  });
  if (kept) {
    event.waitUntil(fresh.catch(() => {}));
    return kept;
  }
  return fresh;
}

self.addEventListener("fetch", event => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && PAGES.test(url.pathname)) {
    event.respondWith(networkFirst(request));
  } else if (QR.test(url.pathname)) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(keptFirst(request, event));
  }
});
