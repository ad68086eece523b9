// The phone's store (IndexedDB) and the outbox's sending, shared by the page and the
// service worker (importScripts): whichever runs first sends, the other finds nothing
// pending or gets "duplicate" (= accepted earlier) for an event already sent, since the
// gateway is idempotent by event_id.
//
// Stores: meta (the session: token and collaborator), outbox (one record per event,
// keyPath event_id), households (the households looked up or enumerated on this phone,
// so the forms work with no connection).
(function (root) {
  "use strict";

  const DB_NAME = "popreg-app";
  const DB_VERSION = 1;
  const BATCH = 20;
  const LOCK = "popreg-outbox";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("meta");
        const outbox = db.createObjectStore("outbox", { keyPath: "event_id" });
        outbox.createIndex("created_at", "created_at");
        db.createObjectStore("households", { keyPath: "household_id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  let opened = null;
  function db() {
    if (!opened) opened = open();
    return opened;
  }

  // One transaction; `work(stores)` may queue requests; resolves when it commits.
  async function tx(names, mode, work) {
    const database = await db();
    return new Promise((resolve, reject) => {
      const t = database.transaction(names, mode);
      const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
      let result;
      Promise.resolve(work(stores)).then((r) => { result = r; }, reject);
      t.oncomplete = () => resolve(result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  const req = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  const Store = {
    getSession: () => tx(["meta"], "readonly", (s) => req(s.meta.get("session"))),
    setSession: (session) => tx(["meta"], "readwrite", (s) => { s.meta.put(session, "session"); }),
    getMeta: (key) => tx(["meta"], "readonly", (s) => req(s.meta.get(key))),
    setMeta: (key, value) => tx(["meta"], "readwrite", (s) => { s.meta.put(value, key); }),
    all: () => tx(["outbox"], "readonly", (s) => req(s.outbox.index("created_at").getAll())),
    get: (eventId) => tx(["outbox"], "readonly", (s) => req(s.outbox.get(eventId))),
    put: (record) => tx(["outbox"], "readwrite", (s) => { s.outbox.put(record); }),
    // Change a stored record in one transaction (null from `change` leaves it).
    update: (eventId, change) => tx(["outbox"], "readwrite", async (s) => {
      const record = await req(s.outbox.get(eventId));
      if (!record) return null;
      const changed = change(record);
      if (changed) s.outbox.put(changed);
      return changed;
    }),
    households: () => tx(["households"], "readonly", (s) => req(s.households.getAll())),
    household: (hid) => tx(["households"], "readonly", (s) => req(s.households.get(hid))),
    putHousehold: (household) => tx(["households"], "readwrite", (s) => { s.households.put(household); }),
  };

  // --- sending -------------------------------------------------------------------
  // What happened: {sent, offline, revoked, unauthorized, retryAfterMs}
  async function send(baseUrl) {
    const session = await Store.getSession();
    const outcome = { sent: 0, offline: false, revoked: false, unauthorized: false, again: false };
    if (!session || !session.token) return outcome;
    let batchSize = BATCH;
    for (;;) {
      const pending = (await Store.all()).filter((r) => r.state === "pending");
      if (!pending.length) return outcome;
      const batch = pending.slice(0, batchSize);
      let response;
      try {
        response = await fetch(`${baseUrl}/v1/events`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.token}` },
          body: JSON.stringify(batch.map((r) => r.event)),
          cache: "no-store",
        });
      } catch (error) {
        outcome.offline = true;
        await markAttempt(batch, "network");
        return outcome;
      }
      let body = null;
      try { body = await response.json(); } catch (error) { body = null; }
      if (response.status === 401) {
        const revoked = body && body.reason === "revoked";
        outcome[revoked ? "revoked" : "unauthorized"] = true;
        await Store.setSession({ ...session, revoked: revoked || session.revoked, unauthorized: !revoked });
        if (revoked) {
          for (const record of pending) {
            await Store.update(record.event_id, (r) => ({ ...r, state: "refused", refusal: "revoked", refused_at: new Date().toISOString() }));
          }
        }
        return outcome;
      }
      if (response.status === 413 && batchSize > 1) {
        batchSize = Math.max(1, Math.floor(batchSize / 2));
        continue;
      }
      if (response.status === 403 && body && Array.isArray(body.indexes) && body.indexes.length) {
        // Nothing of the batch was published: the named events are refused, the others go again.
        for (const index of body.indexes) {
          const record = batch[index];
          if (!record) continue;
          await Store.update(record.event_id, (r) => ({
            ...r, state: "rejected", rejected_at: new Date().toISOString(),
            problems: [{ field: "", rule: body.reason || "not_permitted", message: body.detail || "" }],
          }));
        }
        continue;
      }
      if (body && Array.isArray(body.results)) {
        let settled = 0;
        for (const result of body.results) {
          const record = batch[result.index];
          if (!record || result.event_id !== record.event_id) continue;
          if (result.status === "accepted" || result.status === "duplicate") {
            settled += 1;
            outcome.sent += 1;
            await Store.update(record.event_id, (r) => ({ ...r, state: "accepted", accepted_at: new Date().toISOString(), answer: result.status }));
          } else if (result.status === "rejected") {
            const problems = result.problems || [];
            // The broker could not take it (a librdkafka code, field ""): try again later.
            const undelivered = problems.length && problems.every((p) => p.field === "" && /^_/.test(p.rule));
            if (undelivered) continue;
            settled += 1;
            await Store.update(record.event_id, (r) => ({ ...r, state: "rejected", rejected_at: new Date().toISOString(), problems }));
          }
        }
        if (settled === 0) {
          outcome.again = true;
          await markAttempt(batch, `http ${response.status}`);
          return outcome;
        }
        continue;
      }
      outcome.again = true;
      await markAttempt(batch, `http ${response.status}`);
      return outcome;
    }
  }

  async function markAttempt(batch, error) {
    for (const record of batch) {
      await Store.update(record.event_id, (r) => ({ ...r, attempts: (r.attempts || 0) + 1, last_error: error, last_attempt_at: new Date().toISOString() }));
    }
  }

  // Send under a lock where the browser has Web Locks (page and service worker share it).
  function flush(baseUrl) {
    const base = baseUrl === undefined ? "" : baseUrl;
    if (root.navigator && root.navigator.locks) {
      return root.navigator.locks.request(LOCK, () => send(base));
    }
    return send(base);
  }

  // The registry's verdict on accepted events (applied or rejected by the processors).
  async function refreshStatus(baseUrl) {
    const base = baseUrl === undefined ? "" : baseUrl;
    const session = await Store.getSession();
    if (!session || !session.token || session.revoked) return { waiting: 0 };
    const waiting = (await Store.all()).filter((r) => r.state === "accepted" && !r.verdict);
    for (let i = 0; i < waiting.length; i += 50) {
      const chunk = waiting.slice(i, i + 50);
      const response = await fetch(`${base}/v1/app/events/status?ids=${chunk.map((r) => r.event_id).join(",")}`, {
        headers: { Authorization: `Bearer ${session.token}` }, cache: "no-store",
      });
      if (response.status === 401) {
        const body = await response.json().catch(() => ({}));
        await Store.setSession({ ...session, revoked: body.reason === "revoked" || session.revoked });
        return { waiting: 0 };
      }
      if (!response.ok) return { waiting: waiting.length };
      const states = await response.json();
      for (const record of chunk) {
        const found = states[record.event_id];
        if (found && (found.state === "applied" || found.state === "rejected")) {
          await Store.update(record.event_id, (r) => ({ ...r, verdict: found.state, verdict_reason: found.reason || null }));
        }
      }
    }
    const left = (await Store.all()).filter((r) => r.state === "accepted" && !r.verdict);
    return { waiting: left.length };
  }

  root.PopregOutbox = { Store, flush, refreshStatus };
})(typeof self !== "undefined" ? self : this);
