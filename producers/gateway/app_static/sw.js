// The collaborators' app's service worker (scope /app/): keeps the app shell in a cache
// named after the shell's digest (stamped by producers/gateway/pwa.py), answers the
// shell from it first so the app opens with no connection, never caches the API, and
// sends the outbox on a Background Sync where the browser has it.
"use strict";
importScripts("outbox.js");

const CACHE = "popreg-app-__SHELL_VERSION__";
const SHELL = [
  "./", "index.html", "app.css", "i18n.js", "validate.js", "outbox.js", "app.js",
  "communes.json", "manifest.webmanifest", "icons/icon-192.png", "icons/icon-512.png",
];
const SCOPE = new URL("./", self.location).pathname;  // "/app/"

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "no-cache" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("popreg-app-") && n !== CACHE).map((n) => caches.delete(n))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) {
    return;  // the API (/v1/...) always goes to the network
  }
  const key = request.mode === "navigate" ? "./" : request;
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(key, { ignoreSearch: request.mode === "navigate" }).then((cached) => cached || fetch(request))
    )
  );
});

async function notifyClients() {
  const clients = await self.clients.matchAll({ includeUncontrolled: true });
  for (const client of clients) client.postMessage({ type: "outbox-changed" });
}

self.addEventListener("sync", (event) => {
  if (event.tag !== "popreg-outbox") return;
  event.waitUntil(
    PopregOutbox.flush("").then(async (outcome) => {
      await notifyClients();
      if (outcome.offline || outcome.again) throw new Error("not sent yet: the browser retries");
    })
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "flush") {
    event.waitUntil(PopregOutbox.flush("").then(notifyClients));
  }
});
