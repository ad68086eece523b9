// The collaborators' app: activation, the forms of every event, the outbox and its sync
// status. Everything typed is written to IndexedDB first (outbox.js) and sent when there
// is a connection; the checks of validate.js run before anything is stored.
// `window.appState` tells tests (and curious people) what the app holds.
(function () {
  "use strict";

  const APP_VERSION = "1";
  const SOURCE_SYSTEM = `popreg-app/${APP_VERSION}`;
  const { Store } = PopregOutbox;
  const t = I18n.t;

  const state = {
    ready: false, view: "loading", session: null, communes: null, outbox: [], online: navigator.onLine,
    lastSync: null, searches: 0,
  };
  window.appState = state;

  const $ = (selector, element) => (element || document).querySelector(selector);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }
  const main = () => $("#main");

  // --- dates, ids, communes ------------------------------------------------------
  const today = () => PopregRules.todayIn(new Date());
  function nowWithOffset() {
    const d = new Date();
    const offset = -d.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const abs = Math.abs(offset);
    const local = new Date(d.getTime() + offset * 60000).toISOString().slice(0, 23);
    return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  }
  function randomCode(length) {
    const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return Array.from(bytes, (b) => alphabet[b % 32]).join("");
  }
  const myCommune = () => state.session.collaborator.commune_code;
  const newPersonId = () => `P${myCommune()}-${randomCode(10)}`;
  const newHouseholdId = () => `H${myCommune()}-${randomCode(8)}`;
  // The commune code an event names: the household's, else the collaborator's, that
  // exists on the event's day (codes changed on 2025-07-01).
  function communeFor(day, household) {
    const me = state.session.collaborator;
    const candidates = [household && household.commune_code, me.commune_code, ...(me.codes || [])].filter(Boolean);
    return candidates.find((code) => PopregRules.communeExists(code, day, state.communes)) || candidates[0];
  }
  function fold(text) {
    return (text || "").normalize("NFD").replace(/\p{M}/gu, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  // --- startup ---------------------------------------------------------------------
  async function start() {
    document.documentElement.lang = I18n.lang;
    $("#lang").addEventListener("click", () => {
      I18n.setLang(I18n.lang === "vi" ? "en" : "vi");
      document.documentElement.lang = I18n.lang;
      render();
    });
    window.addEventListener("online", () => { state.online = true; renderStatus(); sync(); });
    window.addEventListener("offline", () => { state.online = false; renderStatus(); });
    window.addEventListener("hashchange", () => { if (activationCode()) showActivation(); });
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", (event) => {
        // The service worker sent (Background Sync): show it, and ask for the verdicts.
        if (event.data && event.data.type === "outbox-changed") refresh().then(() => sync());
      });
      try {
        await navigator.serviceWorker.register("sw.js", { scope: "./" });
      } catch (error) {
        console.warn("no service worker", error);
      }
    }
    try {
      state.communes = await (await fetch("communes.json")).json();
    } catch (error) {
      state.communes = null;  // the server still checks commune codes
    }
    state.session = (await Store.getSession()) || null;
    state.outbox = await Store.all();
    if (activationCode() || !state.session) showActivation();
    else showHome();
    state.ready = true;
    sync();
    // A missed `online` event (some browsers fire none when a network returns) must not
    // leave events waiting: look every 15 s whether there is work and a connection.
    setInterval(() => {
      if (navigator.onLine && state.outbox.some((r) => r.state === "pending" || (r.state === "accepted" && !r.verdict))) sync();
    }, 15000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) sync(); });
  }

  function activationCode() {
    const match = /activate=([^&]+)/.exec(location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function render() {
    $("#lang").textContent = t("language");
    $("#title").textContent = t("title");
    renderStatus();
    if (state.view === "home") showHome();
    else if (state.view === "activate") showActivation();
    else if (state.view === "form" && state.form) openForm(state.form.type, currentValues());
  }

  function renderStatus() {
    const online = navigator.onLine;
    state.online = online;
    const status = $("#net");
    status.textContent = online ? t("online") : t("offline");
    status.dataset.online = online ? "yes" : "no";
    const who = $("#who");
    who.textContent = state.session ? `${state.session.collaborator.name} · ${state.session.collaborator.commune_name || state.session.collaborator.commune_code}` : "";
  }

  // --- activation ------------------------------------------------------------------
  function showActivation() {
    state.view = "activate";
    const code = activationCode() || "";
    const message = el("p", { id: "activate-message", role: "status", "aria-live": "polite" });
    const input = el("input", { id: "code", name: "code", autocomplete: "one-time-code", autocapitalize: "characters", spellcheck: "false", required: true, value: code });
    const form = el("form", { id: "activate-form", onsubmit: async (event) => {
      event.preventDefault();
      message.textContent = t("activating");
      message.className = "";
      try {
        const response = await fetch("/v1/app/activate", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ code: input.value.trim() }), cache: "no-store",
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) {
          message.className = "error";
          message.textContent = activationProblem(body);
          return;
        }
        state.session = { token: body.token, collaborator: body.collaborator, activated_at: new Date().toISOString() };
        await Store.setSession(state.session);
        history.replaceState(null, "", location.pathname);
        showHome();
      } catch (error) {
        message.className = "error";
        message.textContent = t("needOnline");
      }
    } },
    el("label", { for: "code", text: t("code") }), input,
    el("button", { type: "submit", text: t("activate") }), message);
    main().replaceChildren(el("section", { class: "card" },
      el("h2", { text: t("activateTitle") }), el("p", { text: t("activateHelp") }), form));
    renderStatus();
    input.focus();
    if (code && navigator.onLine) form.requestSubmit();
  }

  function activationProblem(body) {
    const vi = {
      unknown_code: "Mã không đúng.", expired_code: "Mã đã hết hạn: xin xã cấp mã mới.",
      used_code: "Mã đã được dùng: mỗi mã chỉ dùng một lần.", revoked: "Tài khoản đã bị thu hồi.",
    };
    if (I18n.lang === "vi" && vi[body.reason]) return vi[body.reason];
    return body.detail || t("fixErrors");
  }

  // --- home: new records and the outbox ----------------------------------------------
  function showHome() {
    state.view = "home";
    state.form = null;
    const session = state.session;
    const banner = session && session.revoked ? el("p", { class: "banner error", role: "alert", id: "revoked", text: t("revokedBanner") })
      : session && session.unauthorized ? el("p", { class: "banner error", role: "alert", text: t("unauthorizedBanner") }) : null;
    const buttons = PopregRules.EVENT_TYPES.map((type) =>
      el("button", { type: "button", class: "new", "data-type": type, text: I18n.type(type), onclick: () => openForm(type) }));
    const pending = state.outbox.filter((r) => r.state === "pending").length;
    main().replaceChildren(
      banner || "",
      el("section", { class: "card" }, el("h2", { text: t("newRecord") }), el("div", { class: "grid" }, buttons)),
      el("section", { class: "card" },
        el("div", { class: "row" },
          el("h2", { text: t("records") }),
          el("span", { id: "pending", "data-count": String(pending), text: `${pending} ${t("pendingCount")}` }),
          el("button", { type: "button", id: "send", text: t("sendNow"), onclick: () => sync() })),
        outboxList()));
    renderStatus();
  }

  function displayState(record) {
    if (record.state === "accepted" && record.verdict) return record.verdict;
    return record.state;
  }

  function outboxList() {
    const records = [...state.outbox].reverse();
    if (!records.length) return el("p", { text: t("noRecords") });
    return el("ul", { id: "outbox" }, records.map((record) => {
      const shown = displayState(record);
      const reasons = [];
      if (record.state === "rejected") {
        for (const p of record.problems || []) reasons.push(problemText(record.type, p, true));
      }
      if (record.verdict === "rejected") reasons.push(`${t("reasonLabel")}: ${I18n.rule(record.verdict_reason || "")}`);
      if (record.state === "refused") reasons.push(`${t("reasonLabel")}: ${I18n.rule(record.refusal || "revoked")}`);
      const canFix = (record.state === "rejected" || record.verdict === "rejected") && !(state.session && state.session.revoked);
      return el("li", { class: `record state-${shown}`, "data-event-id": record.event_id, "data-state": shown },
        el("div", { class: "row" },
          el("strong", { text: I18n.type(record.type) }),
          el("span", { class: "badge", text: t(`state_${shown}`) })),
        el("div", { class: "summary", text: record.summary || "" }),
        el("div", { class: "meta", text: `${record.event.envelope.occurred_on} · ${record.event.envelope.household_id}` }),
        reasons.map((text) => el("div", { class: "reason", text })),
        canFix ? el("button", { type: "button", class: "fix", text: t("fixResend"), onclick: () => openForm(record.type, record.event, record) }) : null);
    }));
  }

  async function refresh() {
    state.outbox = await Store.all();
    const session = await Store.getSession();
    if (session) state.session = session;
    if (state.view === "home") showHome();
  }

  // --- sending, with retries -----------------------------------------------------------
  let retryTimer = null;
  let retryDelay = 2000;
  let statusTimer = null;
  let statusDelay = 1000;
  let syncing = null;

  // One sync at a time; `syncing` is cleared when it ends (asynchronously: a sync that
  // returns at once, offline, must not leave a settled promise behind).
  function sync() {
    if (!syncing) syncing = syncOnce().finally(() => { syncing = null; });
    return syncing;
  }

  async function syncOnce() {
    try {
      if (!navigator.onLine) return;
      const outcome = await PopregOutbox.flush("");
      state.lastSync = { at: new Date().toISOString(), ...outcome };
      if (outcome.offline || outcome.again) {
        scheduleRetry();
      } else {
        retryDelay = 2000;
      }
      await checkStatus();
    } catch (error) {
      console.warn("sync", error);
      scheduleRetry();
    } finally {
      await refresh();
    }
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    const jitter = Math.random() * 0.3 * retryDelay;
    retryTimer = setTimeout(() => sync(), retryDelay + jitter);
    retryDelay = Math.min(retryDelay * 2, 5 * 60 * 1000);
  }

  async function checkStatus() {
    clearTimeout(statusTimer);
    let waiting = 0;
    try {
      waiting = (await PopregOutbox.refreshStatus("")).waiting;
    } catch (error) {
      waiting = 1;
    }
    if (waiting) {
      statusTimer = setTimeout(async () => { await checkStatus(); await refresh(); }, statusDelay);
      statusDelay = Math.min(statusDelay * 1.5, 30000);
    } else {
      statusDelay = 1000;
    }
  }

  async function askBackgroundSync() {
    try {
      const registration = await navigator.serviceWorker.ready;
      if (registration.sync) await registration.sync.register("popreg-outbox");
    } catch (error) {
      /* no Background Sync here: the page's own retries send it */
    }
  }

  // --- forms -------------------------------------------------------------------------
  // A form builds one event from its inputs. Inputs carry data-paths: the event's dotted
  // paths they fill, so a broken rule is shown beside the input that holds the field.
  function field(paths, labelPath, control, hint) {
    const id = `f-${paths.split(" ")[0].replace(/\W/g, "-")}`;
    control.id = id;
    control.dataset.paths = paths;
    control.setAttribute("aria-describedby", `${id}-error`);
    return el("div", { class: "field" },
      el("label", { for: id, text: I18n.field(labelPath) }),
      control,
      hint ? el("small", { text: hint }) : null,
      el("div", { class: "error", id: `${id}-error`, role: "alert" }));
  }
  const textInput = (attrs) => el("input", { type: "text", ...attrs });
  const dateInput = () => el("input", { type: "date", max: today(), min: "1900-01-01", value: today() });
  const numberInput = (min, max) => el("input", { type: "number", min, max, inputmode: "numeric" });
  function enumSelect(name, optional) {
    return el("select", {},
      optional ? el("option", { value: "", text: t("none") }) : el("option", { value: "", text: "—" }),
      PopregRules.ENUMS[name].map((v) => el("option", { value: v, text: I18n.value(v) })));
  }
  function memberSelect(household, optional, filter) {
    const members = (household.members || []).filter(filter || (() => true));
    return el("select", {},
      el("option", { value: "", text: optional ? t("none") : "—" }),
      members.map((m) => el("option", { value: m.person_id, text: `${m.full_name} (${m.birth_date ? m.birth_date.slice(0, 4) : "?"})` })));
  }
  function personFields(prefix, options) {
    const o = options || {};
    return el("fieldset", { class: "person", "data-prefix": prefix },
      el("legend", { text: I18n.field(prefix.replace(/\.\d+$/, "")) }),
      el("input", { type: "hidden", "data-paths": `${prefix}.person_id`, value: o.personId || newPersonId() }),
      field(`${prefix}.full_name`, `${prefix}.full_name`, textInput({ autocomplete: "off" })),
      field(`${prefix}.sex`, `${prefix}.sex`, enumSelect("Sex")),
      o.noBirthDate ? null : field(`${prefix}.birth_date`, `${prefix}.birth_date`, dateInput()),
      field(`${prefix}.ethnicity`, `${prefix}.ethnicity`, textInput({ inputmode: "numeric", maxlength: "2", value: "01" }), "01 = Kinh"),
      field(`${prefix}.national_id`, `${prefix}.national_id`, textInput({ inputmode: "numeric", maxlength: "12" })),
      o.newborn ? null : field(`${prefix}.marital_status`, `${prefix}.marital_status`, enumSelect("MaritalStatus")));
  }

  // The value of the input that fills `path` in the open form ("" if none).
  function valueOf(path) {
    const input = document.querySelector(`#form [data-paths~="${path}"]`);
    return input ? input.value : "";
  }
  const orNull = (value) => (value === "" ? null : value);
  const asInt = (value) => (value === "" ? null : (/^-?\d+$/.test(value.trim()) ? Number(value) : value));
  function personValue(prefix, extra) {
    return {
      person_id: valueOf(`${prefix}.person_id`),
      full_name: valueOf(`${prefix}.full_name`),
      sex: valueOf(`${prefix}.sex`),
      birth_date: valueOf(`${prefix}.birth_date`),
      ethnicity: valueOf(`${prefix}.ethnicity`),
      national_id: orNull(valueOf(`${prefix}.national_id`)),
      marital_status: valueOf(`${prefix}.marital_status`),
      ...(extra || {}),
    };
  }
  function envelope(day, household) {
    return {
      event_id: crypto.randomUUID(), occurred_on: day, recorded_at: nowWithOffset(),
      commune_code: communeFor(day || today(), household), household_id: household ? household.household_id : "",
      reporter_id: state.session.collaborator.id, channel: "MOBILE", source_system: SOURCE_SYSTEM, schema_version: 1,
    };
  }
  const memberName = (household, pid) => {
    const m = (household.members || []).find((x) => x.person_id === pid);
    return m ? m.full_name : pid;
  };

  // Each form: whether it needs a household, its inputs, the event, a summary line.
  const FORMS = {
    HouseholdEnumerated: {
      household: false,
      render: () => [
        el("input", { type: "hidden", "data-paths": "envelope.household_id", value: newHouseholdId() }),
        el("input", { type: "hidden", "data-paths": "head_person_id", value: newPersonId() }),
        field("envelope.occurred_on", "envelope.occurred_on", dateInput()),
        field("address", "address", textInput({ autocomplete: "street-address" })),
        field("member_count", "member_count", numberInput(1, 50)),
      ],
      build: () => {
        const household = { household_id: valueOf("envelope.household_id") };
        return {
          type: "HouseholdEnumerated", envelope: envelope(valueOf("envelope.occurred_on"), household),
          address: valueOf("address"), head_person_id: valueOf("head_person_id"), member_count: asInt(valueOf("member_count")),
        };
      },
      summary: (e) => e.address,
    },
    PersonEnumerated: {
      household: true,
      render: (h) => {
        const head = h.local && h.head_person_id && !(h.members || []).some((m) => m.person_id === h.head_person_id);
        return [
          field("envelope.occurred_on", "envelope.occurred_on", dateInput()),
          personFields("person", { personId: head ? h.head_person_id : null }),
          field("relation_to_head", "relation_to_head", withValue(enumSelect("RelationToHead"), head ? "HEAD" : "")),
          field("spouse_id", "spouse_id", memberSelect(h, true)),
        ];
      },
      build: (h) => ({
        type: "PersonEnumerated", envelope: envelope(valueOf("envelope.occurred_on"), h),
        person: personValue("person"), relation_to_head: valueOf("relation_to_head"), spouse_id: orNull(valueOf("spouse_id")),
      }),
      summary: (e) => e.person.full_name,
    },
    BirthRegistered: {
      household: true,
      render: (h) => [
        field("child.birth_date envelope.occurred_on", "child.birth_date", dateInput()),
        personFields("child", { noBirthDate: true, newborn: true }),
        field("mother_id", "mother_id", memberSelect(h, false, (m) => m.sex !== "MALE")),
        field("father_id", "father_id", memberSelect(h, true, (m) => m.sex !== "FEMALE")),
        field("birth_order", "birth_order", numberInput(1, 20)),
      ],
      build: (h) => {
        const day = valueOf("child.birth_date");
        return {
          type: "BirthRegistered", envelope: envelope(day, h),
          child: personValue("child", { birth_date: day, marital_status: "NEVER_MARRIED" }),
          mother_id: valueOf("mother_id"), father_id: orNull(valueOf("father_id")), birth_order: asInt(valueOf("birth_order")),
        };
      },
      summary: (e, h) => `${e.child.full_name} · ${I18n.field("mother_id")}: ${memberName(h, e.mother_id)}`,
    },
    DeathRegistered: {
      household: true,
      render: (h) => {
        const who = memberSelect(h, false);
        const age = numberInput(0, 120);
        const dayInput = dateInput();
        const fillAge = () => {
          const m = (h.members || []).find((x) => x.person_id === who.value);
          if (m && m.birth_date && dayInput.value) age.value = String(PopregRules.ageOn(m.birth_date, dayInput.value));
        };
        who.addEventListener("change", fillAge);
        dayInput.addEventListener("change", fillAge);
        return [
          field("person_id", "person_id", who),
          field("date_of_death envelope.occurred_on", "date_of_death", dayInput),
          field("age_at_death", "age_at_death", age),
          field("place", "place", enumSelect("PlaceOfDeath")),
        ];
      },
      build: (h) => {
        const day = valueOf("date_of_death");
        return {
          type: "DeathRegistered", envelope: envelope(day, h), person_id: valueOf("person_id"), date_of_death: day,
          age_at_death: asInt(valueOf("age_at_death")), place: valueOf("place"),
        };
      },
      summary: (e, h) => memberName(h, e.person_id),
    },
    MarriageRegistered: {
      household: true,
      render: (h) => [
        field("spouse_a_id", "spouse_a_id", memberSelect(h, false)),
        field("spouse_b_id", "spouse_b_id", memberSelect(h, false)),
        field("marriage_date envelope.occurred_on", "marriage_date", dateInput()),
        field("household_after", "household_after", textInput({ value: h.household_id })),
      ],
      build: (h) => {
        const day = valueOf("marriage_date");
        return {
          type: "MarriageRegistered", envelope: envelope(day, h), spouse_a_id: valueOf("spouse_a_id"),
          spouse_b_id: valueOf("spouse_b_id"), marriage_date: day, household_after: valueOf("household_after"),
        };
      },
      summary: (e, h) => `${memberName(h, e.spouse_a_id)} — ${memberName(h, e.spouse_b_id)}`,
    },
    DivorceRegistered: {
      household: true,
      render: (h) => [
        field("spouse_a_id", "spouse_a_id", memberSelect(h, false)),
        field("spouse_b_id", "spouse_b_id", memberSelect(h, false)),
        field("divorce_date envelope.occurred_on", "divorce_date", dateInput()),
      ],
      build: (h) => {
        const day = valueOf("divorce_date");
        return {
          type: "DivorceRegistered", envelope: envelope(day, h), spouse_a_id: valueOf("spouse_a_id"),
          spouse_b_id: valueOf("spouse_b_id"), divorce_date: day,
        };
      },
      summary: (e, h) => `${memberName(h, e.spouse_a_id)} — ${memberName(h, e.spouse_b_id)}`,
    },
    MovedIn: {
      household: true,
      render: () => {
        const list = el("div", { id: "persons", "data-paths": "persons person_ids", tabindex: "-1" });
        const add = () => list.append(personFields(`persons.${list.children.length}`));
        add();
        return [
          field("envelope.occurred_on", "envelope.occurred_on", dateInput()),
          list,
          el("button", { type: "button", class: "secondary", id: "add-person", text: t("addPerson"), onclick: add }),
          el("div", { class: "error", id: "f-persons-error", role: "alert" }),
          field("origin", "origin", enumSelect("MoveKind")),
          field("origin_commune_code", "origin_commune_code", textInput({ inputmode: "numeric", maxlength: "5" })),
        ];
      },
      build: (h) => {
        const persons = Array.from(document.querySelectorAll("#persons fieldset")).map((_, i) => personValue(`persons.${i}`));
        return {
          type: "MovedIn", envelope: envelope(valueOf("envelope.occurred_on"), h),
          person_ids: persons.map((p) => p.person_id), persons,
          origin: valueOf("origin"), origin_commune_code: orNull(valueOf("origin_commune_code")),
        };
      },
      summary: (e) => e.persons.map((p) => p.full_name).join(", "),
    },
    MovedOut: {
      household: true,
      render: (h) => [
        field("envelope.occurred_on", "envelope.occurred_on", dateInput()),
        el("fieldset", { id: "f-person_ids", "data-paths": "person_ids", tabindex: "-1", "aria-describedby": "f-person_ids-error" },
          el("legend", { text: I18n.field("person_ids") }),
          (h.members || []).map((m) => el("label", { class: "check" },
            el("input", { type: "checkbox", name: "person_ids", value: m.person_id }), ` ${m.full_name}`)),
          el("div", { class: "error", id: "f-person_ids-error", role: "alert" })),
        field("destination", "destination", enumSelect("MoveKind")),
        field("destination_commune_code", "destination_commune_code", textInput({ inputmode: "numeric", maxlength: "5" })),
      ],
      build: (h) => ({
        type: "MovedOut", envelope: envelope(valueOf("envelope.occurred_on"), h),
        person_ids: Array.from(document.querySelectorAll('#form input[name="person_ids"]:checked')).map((c) => c.value),
        destination: valueOf("destination"), destination_commune_code: orNull(valueOf("destination_commune_code")),
      }),
      summary: (e, h) => e.person_ids.map((pid) => memberName(h, pid)).join(", "),
    },
    EventVoided: {
      household: false,
      render: () => [targetField(), field("reason", "reason", textInput({}))],
      build: () => {
        const target = targetRecord();
        return {
          type: "EventVoided", envelope: envelope(today(), target ? target.household : null),
          target_event_id: target ? target.event_id : "", reason: valueOf("reason"),
        };
      },
      summary: (e) => `${e.target_event_id.slice(0, 8)} · ${e.reason}`,
    },
    EventAmended: {
      household: false,
      render: () => {
        const box = el("div", { id: "amend-fields" });
        const select = targetField(() => {
          const target = targetRecord();
          box.replaceChildren(...(target ? amendInputs(target.event) : []));
        });
        return [select, el("p", { class: "help", text: t("amendHelp") }), box, field("reason", "reason", textInput({}))];
      },
      build: () => {
        const target = targetRecord();
        const corrected = {};
        if (target) {
          for (const input of document.querySelectorAll("#amend-fields [data-amend]")) {
            const before = leafAt(target.event, input.dataset.amend);
            const after = typedLike(before, input.value);
            if (JSON.stringify(after) !== JSON.stringify(before)) corrected[input.dataset.amend] = JSON.stringify(after);
          }
        }
        return {
          type: "EventAmended", envelope: envelope(today(), target ? target.household : null),
          target_event_id: target ? target.event_id : "", reason: valueOf("reason"), corrected_fields: corrected,
        };
      },
      summary: (e) => `${e.target_event_id.slice(0, 8)} · ${Object.keys(e.corrected_fields).join(", ")}`,
    },
  };
  function withValue(select, value) { select.value = value; return select; }

  // Void and amend: one's own events the gateway accepted (not corrections).
  function ownAccepted() {
    return state.outbox.filter((r) => r.state === "accepted" && r.verdict !== "rejected"
      && r.type !== "EventVoided" && r.type !== "EventAmended");
  }
  function targetField(onChange) {
    const select = el("select", {},
      el("option", { value: "", text: ownAccepted().length ? "—" : t("noOwnRecords") }),
      ownAccepted().map((r) => el("option", { value: r.event_id, text: `${I18n.type(r.type)} · ${r.summary || ""} · ${r.event.envelope.occurred_on}` })));
    if (onChange) select.addEventListener("change", onChange);
    return field("target_event_id", "target_event_id", select);
  }
  function targetRecord() {
    const id = valueOf("target_event_id");
    return state.outbox.find((r) => r.event_id === id) || null;
  }
  function leaves(value, prefix) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
    }
    return [[prefix, value]];
  }
  function leafAt(event, path) {
    return path.split(".").reduce((node, part) => (node == null ? undefined : node[part]), event);
  }
  function typedLike(before, text) {
    if (typeof before === "number") return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
    if (before === null && text === "") return null;
    return text;
  }
  function amendInputs(event) {
    const editable = leaves(event, "").filter(([path, value]) =>
      path !== "type" && (path === "envelope.occurred_on" || !path.startsWith("envelope.")) && !Array.isArray(value)
      && !/person_id$|_id$/.test(path));
    return editable.map(([path, value]) => {
      const isDate = /date|occurred_on/.test(path);
      const input = el("input", { type: isDate ? "date" : "text", value: value === null ? "" : String(value), "data-amend": path });
      return field(`amend.${path}`, path, input);
    });
  }

  // --- the household picker --------------------------------------------------------
  async function searchHouseholds(query) {
    const q = query.trim();
    state.searches += 1;
    if (navigator.onLine && state.session && !state.session.revoked) {
      try {
        const response = await fetch(`/v1/app/households?q=${encodeURIComponent(q)}`, {
          headers: { Authorization: `Bearer ${state.session.token}` }, cache: "no-store",
        });
        if (response.ok) {
          const found = await response.json();
          for (const household of found) {
            const kept = await Store.household(household.household_id);
            await Store.putHousehold({ ...(kept || {}), ...household, local: false, fetched_at: new Date().toISOString() });
          }
          return { households: found, offline: false };
        }
      } catch (error) {
        /* fall back to what the phone holds */
      }
    }
    const wanted = fold(q);
    const kept = (await Store.households()).filter((h) =>
      h.household_id === q || (wanted && fold(h.head_name).includes(wanted))
      || (wanted && (h.members || []).some((m) => m.relationship === "HEAD" && fold(m.full_name).includes(wanted))));
    return { households: kept.slice(0, 20), offline: true };
  }

  function householdPicker(onChosen) {
    const input = el("input", { type: "search", id: "hh-q", autocomplete: "off", enterkeyhint: "search" });
    const results = el("div", { id: "hh-results", role: "region", "aria-live": "polite" });
    const go = async (event) => {
      if (event) event.preventDefault();
      results.textContent = "…";
      const { households, offline } = await searchHouseholds(input.value);
      results.replaceChildren(
        offline ? el("p", { class: "help", text: t("searchOffline") }) : "",
        households.length ? el("ul", { class: "households" }, households.map((h) => el("li", {},
          el("button", { type: "button", class: "household", "data-household-id": h.household_id, onclick: () => onChosen(h) },
            `${h.head_name || t("newHousehold")} · ${h.household_id}${h.local ? ` (${t("localHousehold")})` : ""}`))))
          : el("p", { id: "hh-none", text: t("noHousehold") }));
    };
    input.addEventListener("keydown", (event) => { if (event.key === "Enter") go(event); });
    return el("div", { class: "picker" },
      el("label", { for: "hh-q", text: t("findHousehold") }),
      el("div", { class: "row" }, input, el("button", { type: "button", id: "hh-find", text: t("find"), onclick: go })),
      results);
  }

  // --- opening, filling and saving a form ------------------------------------------
  // `values`: an event to fill the form with (a rejected one being fixed, or the open
  // form when the language changes); `replaces`: the outbox record it corrects.
  async function openForm(type, values, replaces) {
    const spec = FORMS[type];
    state.view = "form";
    state.form = { type, household: null, replaces: replaces || (state.form && state.form.replaces) || null };
    if (values && spec.household) {
      const hid = values.envelope && values.envelope.household_id;
      state.form.household = (replaces && replaces.household) || (hid && await Store.household(hid)) || { household_id: hid, members: [] };
    }
    const body = el("div", { id: "form-body" });
    const summaryBox = el("div", { id: "form-errors", role: "alert", tabindex: "-1" });
    const form = el("form", { id: "form", "data-type": type, novalidate: true, onsubmit: (event) => { event.preventDefault(); save(); } },
      el("h2", { text: I18n.type(type) }), summaryBox, body,
      el("div", { class: "row actions" },
        el("button", { type: "button", class: "secondary", text: t("back"), onclick: () => { showHome(); } }),
        el("button", { type: "submit", id: "save", text: t("save") })));
    main().replaceChildren(form);
    const drawBody = () => {
      const household = state.form.household;
      const header = spec.household
        ? [household ? el("p", { class: "chosen", id: "chosen-household", "data-household-id": household.household_id },
          `${t("household")}: ${household.head_name || t("newHousehold")} · ${household.household_id}`) : null,
        householdPicker((h) => { state.form.household = h; drawBody(); $("#form-body select, #form-body input:not([type=hidden])")?.focus(); })]
        : [];
      const inputs = !spec.household || household ? spec.render(household) : [el("p", { class: "help", text: t("chooseHousehold") })];
      body.replaceChildren(...header, ...inputs);
    };
    drawBody();
    if (values) fillForm(values);
    const first = $("#form-body input:not([type=hidden]), #form-body select");
    if (first) first.focus();
  }

  function fillForm(event) {
    if (event.type === "MovedIn" && Array.isArray(event.persons)) {
      const add = $("#add-person");
      while (add && document.querySelectorAll("#persons fieldset").length < event.persons.length) add.click();
    }
    for (const [path, value] of leaves(event, "")) {
      if (path === "envelope.event_id") continue;
      const input = document.querySelector(`#form [data-paths~="${path}"]`);
      if (input && "value" in input && value !== null && value !== undefined) input.value = String(value);
    }
    if (event.type === "MovedOut") {
      for (const box of document.querySelectorAll('#form input[name="person_ids"]')) box.checked = (event.person_ids || []).includes(box.value);
    }
    if (event.type === "EventVoided" || event.type === "EventAmended") {
      const select = document.querySelector('#form [data-paths~="target_event_id"]');
      if (select) select.dispatchEvent(new Event("change"));
      for (const [path, encoded] of Object.entries(event.corrected_fields || {})) {
        const input = document.querySelector(`#amend-fields [data-amend="${path}"]`);
        try { if (input) input.value = String(JSON.parse(encoded)); } catch (error) { /* left as it was */ }
      }
    }
  }

  function currentValues() {
    try {
      const spec = FORMS[state.form.type];
      if (spec.household && !state.form.household) return null;
      return spec.build(state.form.household);
    } catch (error) {
      return null;
    }
  }

  // Where a model's own rule (field "" or a nested model) is shown in the form.
  const RULE_TARGETS = {
    national_id_mismatch: (type, loc) => `${loc}.national_id`,
    recorded_before_occurred: () => "envelope.occurred_on",
    born_after_event: (type) => (type === "PersonEnumerated" ? "person.birth_date" : "persons"),
    implausible_age: (type) => (type === "PersonEnumerated" ? "person.birth_date" : "persons"),
    same_person: (type) => ({ PersonEnumerated: "spouse_id", BirthRegistered: "father_id" }[type] || "spouse_b_id"),
    spouse_not_married: () => "person.marital_status",
    married_newborn: () => "child.birth_date",
    date_mismatch: () => "envelope.occurred_on",
    move_place_mismatch: (type) => (type === "MovedIn" ? "origin_commune_code" : "destination_commune_code"),
    unknown_commune: (type, loc) => (loc ? `${loc}` : type === "MovedIn" ? "origin_commune_code" : "destination_commune_code"),
    duplicate_person: () => "person_ids",
    unlisted_person: () => "persons",
    self_reference: () => "target_event_id",
  };
  function targetOf(type, problem) {
    const target = RULE_TARGETS[problem.rule];
    const modelLevel = problem.field === "" || ["person", "child", "envelope"].includes(problem.field) || /^persons\.\d+$/.test(problem.field);
    if (target && modelLevel) return target(type, problem.field);
    return problem.field;
  }
  // "Ngày sinh: ngày này sau hôm nay (2026-12-07)"
  function problemText(type, problem, fromServer) {
    const path = targetOf(type, problem);
    const label = I18n.field(path);
    const known = I18n.hasRule(problem.rule);
    const message = known ? I18n.rule(problem.rule, problem.values || {}) : (problem.message || problem.rule);
    return fromServer && !known && problem.message ? `${label}: ${problem.message}` : `${label}: ${message}`;
  }
  function inputFor(path) {
    let candidate = path;
    while (candidate) {
      const found = document.querySelector(`#form [data-paths~="${candidate}"]`)
        || document.querySelector(`#form [data-amend="${candidate.replace(/^corrected_fields\.?/, "")}"]`);
      if (found) return found;
      candidate = candidate.includes(".") ? candidate.slice(0, candidate.lastIndexOf(".")) : "";
    }
    return null;
  }

  function showProblems(type, problems) {
    for (const node of document.querySelectorAll("#form .error")) node.textContent = "";
    for (const node of document.querySelectorAll("#form [aria-invalid]")) node.removeAttribute("aria-invalid");
    const summary = $("#form-errors");
    summary.replaceChildren();
    let first = null;
    for (const problem of problems) {
      const path = targetOf(type, problem);
      const text = problemText(type, problem, false);
      const input = inputFor(path);
      const errorBox = input && (document.getElementById(`${input.id}-error`) || (input.id === "persons" && $("#f-persons-error")));
      if (input && input.type !== "hidden" && errorBox) {
        input.setAttribute("aria-invalid", "true");
        errorBox.textContent = errorBox.textContent ? `${errorBox.textContent}; ${text}` : text;
        errorBox.dataset.rule = problem.rule;
        errorBox.dataset.field = problem.field;
        first = first || input;
      } else {
        summary.append(el("p", { class: "error", "data-rule": problem.rule, "data-field": problem.field, text }));
      }
    }
    if (problems.length) {
      summary.prepend(el("p", { class: "error", text: t("fixErrors") }));
      (first || summary).focus();
    }
  }

  async function save() {
    const { type, household, replaces } = state.form;
    const spec = FORMS[type];
    if (spec.household && !household) {
      showProblems(type, [{ field: "envelope.household_id", rule: "missing" }]);
      return;
    }
    const event = spec.build(household);
    const problems = PopregRules.validate(event, { communes: state.communes });
    state.lastProblems = problems;
    if (problems.length) {
      showProblems(type, problems);
      return;
    }
    const target = event.target_event_id ? state.outbox.find((r) => r.event_id === event.target_event_id) : null;
    const record = {
      event_id: event.envelope.event_id, type, event, state: "pending", created_at: new Date().toISOString(),
      household: household || (target && target.household) || null, summary: spec.summary(event, household || {}),
      replaces: replaces ? replaces.event_id : null, attempts: 0,
    };
    await Store.put(record);
    if (replaces) {
      await Store.update(replaces.event_id, (r) => ({ ...r, state: "corrected", verdict: null, corrected_by: record.event_id }));
    }
    await rememberLocally(event, household);
    state.outbox = await Store.all();
    showHome();
    const note = el("p", { class: "banner ok", role: "status", id: "saved", text: t("saved") });
    main().prepend(note);
    askBackgroundSync();
    sync();
  }

  // What the phone knows after an event, so the next forms work without a connection.
  async function rememberLocally(event, household) {
    const hid = event.envelope.household_id;
    const kept = (await Store.household(hid)) || household || { household_id: hid, members: [] };
    const members = [...(kept.members || [])];
    const add = (p, relationship) => members.push({
      person_id: p.person_id, full_name: p.full_name, sex: p.sex, birth_date: p.birth_date, relationship, national_id: p.national_id,
    });
    if (event.type === "HouseholdEnumerated") {
      await Store.putHousehold({ household_id: hid, commune_code: event.envelope.commune_code, head_name: null,
        head_person_id: event.head_person_id, address: event.address, members: [], local: true });
      return;
    }
    if (event.type === "PersonEnumerated") add(event.person, event.relation_to_head);
    if (event.type === "BirthRegistered") add(event.child, "CHILD");
    if (event.type === "MovedIn") event.persons.forEach((p) => add(p, "UNKNOWN"));
    const gone = event.type === "DeathRegistered" ? [event.person_id] : event.type === "MovedOut" ? event.person_ids : [];
    const left = members.filter((m) => !gone.includes(m.person_id));
    const headName = kept.head_name || (event.type === "PersonEnumerated" && event.relation_to_head === "HEAD" ? event.person.full_name : null);
    if (event.type !== "EventVoided" && event.type !== "EventAmended") {
      await Store.putHousehold({ ...kept, head_name: headName, members: left });
    }
  }

  window.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => {
      console.error(error);
      main().textContent = String(error);
    });
  });
})();
