// The server's validation rules (schemas/models.py, schemas/text.py) in JavaScript, so a
// collaborator sees what is wrong before sending. The server stays the judge; this file
// answers as it does: the same rule codes at the same dotted field paths, pydantic's
// order (a model's own checks run only when all its fields are valid; a field's chain
// stops at its first broken rule). tests/test_collaborator_app.py holds the two to
// agreement on a corpus of valid and invalid events.
//
// PopregRules.validate(event, {now: Date, communes: {reform_date, before, after}})
//   -> [{field: "child.birth_date", rule: "future_date", values: {...}}]
// Without `communes` the commune-exists rule is skipped (as the server skips it without
// a context); `now` defaults to the phone's clock.
(function (root) {
  "use strict";

  const ENUMS = {
    Channel: ["MOBILE", "WEB", "BATCH_IMPORT", "REGISTRY_SYNC", "OTHER"],
    Sex: ["MALE", "FEMALE", "UNKNOWN"],
    MaritalStatus: ["NEVER_MARRIED", "MARRIED", "DIVORCED", "WIDOWED", "SEPARATED", "UNKNOWN"],
    RelationToHead: ["HEAD", "SPOUSE", "CHILD", "PARENT", "GRANDCHILD", "SIBLING",
      "OTHER_RELATIVE", "NON_RELATIVE", "UNKNOWN"],
    PlaceOfDeath: ["HOME", "HEALTH_FACILITY", "OTHER", "UNKNOWN"],
    MoveKind: ["ANOTHER_COMMUNE", "ABROAD", "UNKNOWN"],
  };
  const MAX_AGE = 120;
  const EARLIEST = "1900-01-01";
  const LATEST = "2299-12-31";
  const CLOCK_SKEW_MS = 5 * 60 * 1000;
  const VIETNAM_OFFSET_MS = 7 * 3600 * 1000;
  const CENTURY_BASE = { 0: 1900, 2: 2000, 4: 2100 };
  // Unicode categories no string may hold (schemas/text.py FORBIDDEN).
  const FORBIDDEN = [
    [/\p{Cc}/u, "control"], [/\p{Cf}/u, "format"], [/\p{Cs}/u, "surrogate"],
    [/\p{Co}/u, "private-use"], [/\p{Cn}/u, "unassigned"], [/\p{Zl}/u, "line separator"],
    [/\p{Zp}/u, "paragraph separator"],
  ];
  const ISO_DATE = /^\p{Nd}{4}-\p{Nd}{2}-\p{Nd}{2}$/u;
  const ISO_INSTANT =
    /^\p{Nd}{4}-\p{Nd}{2}-\p{Nd}{2}[T ]\p{Nd}{2}:\p{Nd}{2}(:\p{Nd}{2}(\.\p{Nd}{1,9})?)?(Z|z|[+-]\p{Nd}{2}(:?\p{Nd}{2})?)?$/u;
  const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
  const UUID_FORMS = [
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    /^[0-9a-fA-F]{32}$/,
    /^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$/,
    /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  ];

  // A broken rule: thrown inside a check, collected by the model that runs it.
  class Broken {
    constructor(rule, values) { this.rule = rule; this.values = values || {}; }
  }
  const broken = (rule, values) => new Broken(rule, values);
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const codePoints = (s) => Array.from(s).length;

  // --- dates: days are "YYYY-MM-DD" strings, compared as strings --------------------
  function dayParts(text) {
    const [y, m, d] = text.split("-").map(Number);
    return { y, m, d };
  }
  function daysInMonth(y, m) {
    return [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30,
      31, 31, 30, 31, 30, 31][m - 1];
  }
  function validDay(y, m, d) {
    return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
  }
  function pad(n, width) { return String(n).padStart(width, "0"); }
  function isoDay(y, m, d) { return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`; }
  // The calendar day of an instant (milliseconds since the epoch) at an offset.
  function dayAt(ms, offsetMs) {
    const t = new Date(ms + offsetMs);
    return isoDay(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
  }
  function todayIn(now) { return dayAt(now.getTime(), VIETNAM_OFFSET_MS); }
  function ageOn(birth, day) {
    const b = dayParts(birth), d = dayParts(day);
    return d.y - b.y - ((d.m < b.m || (d.m === b.m && d.d < b.d)) ? 1 : 0);
  }

  function inRange(day) {
    if (day < EARLIEST || day > LATEST) {
      throw broken("date_out_of_range", { day, earliest: EARLIEST, latest: LATEST });
    }
  }

  // --- field types: each takes (value, ctx, data) and returns the value or throws ---
  function str(value) {
    if (typeof value !== "string") throw broken("string_type");
    return value;
  }
  function refuseForbidden(value) {
    let position = 0;
    for (const ch of value) {
      for (const [pattern, kind] of FORBIDDEN) {
        if (pattern.test(ch)) {
          const code = "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
          throw broken("control_character", { kind, code, position });
        }
      }
      position += 1;
    }
    return value;
  }
  function cleanText(value) {
    const normal = value.normalize("NFC");
    refuseForbidden(normal);
    return normal.replace(/\s+/gu, " ").trim();
  }
  function text(value) {
    const cleaned = cleanText(str(value));
    const length = codePoints(cleaned);
    if (length < 1) throw broken("too_short", { min: 1 });
    if (length > 200) throw broken("too_long", { max: 200 });
    return cleaned;
  }
  function id(value) {
    str(value);
    const length = codePoints(value);
    if (length < 1) throw broken("string_too_short", { min: 1 });
    if (length > 64) throw broken("string_too_long", { max: 64 });
    if (!ID_PATTERN.test(value)) throw broken("string_pattern_mismatch");
    return value;
  }
  function digits(count, kind) {
    return (value) => {
      str(value);
      if (codePoints(value) !== count || !/^[0-9]*$/.test(value)) {
        throw broken(kind, { value, count });
      }
      return value;
    };
  }
  const communeCode = digits(5, "commune_code_format");
  const nationalId = digits(12, "national_id_format");
  const ethnicityCode = digits(2, "ethnicity_format");
  function oneOf(name) {
    return (value) => {
      if (!ENUMS[name].includes(value)) throw broken("enum", { allowed: ENUMS[name] });
      return value;
    };
  }
  function integer(min, max) {
    return (value) => {
      let n;
      if (typeof value === "boolean") n = value ? 1 : 0;
      else if (typeof value === "number") {
        if (!Number.isFinite(value)) throw broken("finite_number");
        if (!Number.isInteger(value)) throw broken("int_from_float");
        n = value;
      } else if (typeof value === "string") {
        const t = value.trim();
        if (/^[+-]?\d+$/.test(t)) n = Number(t);
        else if (/^[+-]?\d+\.0*$/.test(t)) n = Number(t);
        else throw broken("int_parsing");
      } else throw broken("int_type");
      if (min !== null && n < min) throw broken("greater_than_equal", { ge: min });
      if (max !== null && n > max) throw broken("less_than_equal", { le: max });
      return n;
    };
  }
  function day(value, ctx) {
    if (typeof value !== "string" || !ISO_DATE.test(value)) {
      throw broken("date_format", { given: typeof value === "string" ? value.slice(0, 40) : String(value) });
    }
    if (!/^[0-9-]+$/.test(value)) throw broken("date_from_datetime_parsing");
    const { y, m, d } = dayParts(value);
    if (y === 0) throw broken("date_parsing");
    if (!validDay(y, m, d)) throw broken("date_from_datetime_parsing");
    inRange(value);
    if (ctx.now && value > todayIn(ctx.now)) {
      throw broken("future_date", { day: value, today: todayIn(ctx.now) });
    }
    return value;
  }
  // An ISO timestamp as {ms, localDay, utcDay}, or a broken rule.
  function instant(value) {
    if (typeof value !== "string" || !ISO_INSTANT.test(value)) {
      throw broken("timestamp_format", { given: typeof value === "string" ? value.slice(0, 40) : String(value) });
    }
    if (!/^[0-9T :.Zz+-]+$/.test(value)) throw broken("datetime_from_date_parsing");
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/.exec(value);
    const [y, mo, d, h, mi] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
    const s = m[6] === undefined ? 0 : Number(m[6]);
    const frac = m[7] === undefined ? 0 : Number((m[7] + "000").slice(0, 3));
    const zone = m[8];
    if (y === 0 || !validDay(y, mo, d)) throw broken("datetime_from_date_parsing");
    if (h > 23 || mi > 59 || s > 59) throw broken("datetime_from_date_parsing");
    if (zone !== undefined && /^[+-]\d{2}$/.test(zone)) throw broken("datetime_from_date_parsing");
    if (zone === undefined) throw broken("timezone_required");
    let offsetMs = 0;
    if (zone !== "Z" && zone !== "z") {
      const sign = zone[0] === "-" ? -1 : 1;
      const digitsOnly = zone.slice(1).replace(":", "");
      const oh = Number(digitsOnly.slice(0, 2)), om = Number(digitsOnly.slice(2, 4));
      if (oh > 23 || om > 59) throw broken("datetime_from_date_parsing");
      offsetMs = sign * (oh * 60 + om) * 60000;
    }
    const localDay = isoDay(y, mo, d);
    inRange(localDay);
    const local = new Date(0);
    local.setUTCFullYear(y, mo - 1, d);  // unlike Date.UTC, years 0-99 stay themselves
    local.setUTCHours(h, mi, s, frac);
    const ms = local.getTime() - offsetMs;
    const utcDay = dayAt(ms, 0);
    inRange(utcDay);
    return { ms, utcDay };
  }
  function uuid(value) {
    if (typeof value !== "string") throw broken("uuid_type");
    if (!UUID_FORMS.some((form) => form.test(value))) throw broken("uuid_parsing");
    return canonicalUuid(value);
  }
  function canonicalUuid(value) {
    const hex = value.replace(/^urn:uuid:/, "").replace(/[{}-]/g, "").toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const nullable = (check) => (value, ctx, data) => (value === null ? null : check(value, ctx, data));

  // --- models ----------------------------------------------------------------------
  // A model: its fields in order as [name, check, default?] (a check may be a model),
  // and an optional after-check run only when every field is valid.
  function model(fields, after) {
    return { fields, after };
  }
  const REQUIRED = Symbol("required");

  // Validate `value` against a model; push problems; return the parsed object or
  // undefined when anything in it is broken.
  function runModel(spec, value, loc, ctx, problems) {
    if (!isObject(value)) {
      problems.push({ field: loc.join("."), rule: loc.length ? "model_type" : "model_attributes_type" });
      return undefined;
    }
    const data = {};
    let ok = true;
    const known = new Set(spec.fields.map((f) => f[0]));
    for (const [name, check, fallback] of spec.fields) {
      const where = [...loc, name];
      if (!(name in value)) {
        if (fallback === REQUIRED) {
          problems.push({ field: where.join("."), rule: "missing" });
          ok = false;
        } else {
          data[name] = typeof fallback === "function" ? fallback() : fallback;
        }
        continue;
      }
      const parsed = runField(check, value[name], where, ctx, problems, data);
      if (parsed === undefined) ok = false;
      else data[name] = parsed;
    }
    for (const name of Object.keys(value)) {
      if (!known.has(name)) {
        problems.push({ field: [...loc, name].join("."), rule: "extra_forbidden" });
        ok = false;
      }
    }
    if (!ok) return undefined;
    if (spec.after) {
      try {
        spec.after(data, ctx);
      } catch (error) {
        if (!(error instanceof Broken)) throw error;
        problems.push({ field: loc.join("."), rule: error.rule, values: error.values });
        return undefined;
      }
    }
    return data;
  }

  function runField(check, value, where, ctx, problems, data) {
    if (check && check.fields) return runModel(check, value, where, ctx, problems);
    if (check && check.listOf) return runList(check, value, where, ctx, problems);
    if (check && check.dictOfStr) return runDict(check, value, where, ctx, problems);
    try {
      return check(value, ctx, data);
    } catch (error) {
      if (!(error instanceof Broken)) throw error;
      problems.push({ field: where.join("."), rule: error.rule, values: error.values });
      return undefined;
    }
  }

  function listOf(item, min, max) { return { listOf: item, min, max }; }
  function runList(spec, value, where, ctx, problems) {
    if (!Array.isArray(value)) {
      problems.push({ field: where.join("."), rule: "list_type" });
      return undefined;
    }
    if (value.length > spec.max) {
      problems.push({ field: where.join("."), rule: "too_long", values: { max: spec.max } });
      return undefined;
    }
    const out = [];
    let ok = true;
    value.forEach((element, index) => {
      const parsed = runField(spec.listOf, element, [...where, String(index)], ctx, problems, {});
      if (parsed === undefined) ok = false;
      else out.push(parsed);
    });
    if (!ok) return undefined;
    if (value.length < spec.min) {
      problems.push({ field: where.join("."), rule: "too_short", values: { min: spec.min } });
      return undefined;
    }
    return out;
  }

  function dictOfStr(min, after) { return { dictOfStr: true, min, after }; }
  function runDict(spec, value, where, ctx, problems) {
    if (!isObject(value)) {
      problems.push({ field: where.join("."), rule: "dict_type" });
      return undefined;
    }
    let ok = true;
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== "string") {
        problems.push({ field: [...where, key].join("."), rule: "string_type" });
        ok = false;
      }
    }
    if (!ok) return undefined;
    if (Object.keys(value).length < spec.min) {
      problems.push({ field: where.join("."), rule: "too_short", values: { min: spec.min } });
      return undefined;
    }
    try {
      spec.after(value);
    } catch (error) {
      if (!(error instanceof Broken)) throw error;
      problems.push({ field: where.join("."), rule: error.rule, values: error.values });
      return undefined;
    }
    return value;
  }

  // --- rules that need the world ---------------------------------------------------
  function communeExists(code, dayValue, ctx) {
    const table = ctx.communes;
    if (!table || code === null || code === undefined) return;
    const after = dayValue >= table.reform_date;
    const found = after ? Object.prototype.hasOwnProperty.call(table.after, code) : table.beforeSet.has(code);
    if (!found) throw broken("unknown_commune", { code, day: dayValue });
  }

  // --- the contract ----------------------------------------------------------------
  const Envelope = model([
    ["event_id", uuid, REQUIRED],
    ["occurred_on", day, REQUIRED],
    ["recorded_at", (value, ctx) => {
      const at = instant(value);
      if (ctx.now && at.ms > ctx.now.getTime() + CLOCK_SKEW_MS) throw broken("future_timestamp", { at: value });
      return at;
    }, REQUIRED],
    ["commune_code", (value, ctx, data) => {
      communeCode(value);
      if (typeof data.occurred_on === "string") communeExists(value, data.occurred_on, ctx);
      return value;
    }, REQUIRED],
    ["household_id", id, REQUIRED],
    ["reporter_id", id, REQUIRED],
    ["channel", oneOf("Channel"), REQUIRED],
    ["source_system", text, REQUIRED],
    ["schema_version", integer(1, null), 1],
  ], (env) => {
    if (env.occurred_on > dayAt(env.recorded_at.ms, VIETNAM_OFFSET_MS)) {
      throw broken("recorded_before_occurred", { day: env.occurred_on });
    }
  });

  function nationalIdMatches(person) {
    const nid = person.national_id;
    if (nid === null) return;
    const digit = Number(nid[3]), year = Number(nid.slice(4, 6));
    const base = CENTURY_BASE[digit - (digit % 2)];
    const sex = digit % 2 === 0 ? "MALE" : "FEMALE";
    const birthYear = dayParts(person.birth_date).y;
    if (base === undefined || base + year !== birthYear) {
      throw broken("national_id_mismatch", { nid, year: birthYear });
    }
    if (person.sex !== "UNKNOWN" && sex !== person.sex) {
      throw broken("national_id_mismatch", { nid, sex });
    }
  }

  const Person = model([
    ["person_id", id, REQUIRED],
    ["full_name", text, REQUIRED],
    ["sex", oneOf("Sex"), REQUIRED],
    ["birth_date", day, REQUIRED],
    ["ethnicity", ethnicityCode, REQUIRED],
    ["national_id", nullable(nationalId), null],
    ["marital_status", oneOf("MaritalStatus"), REQUIRED],
  ], nationalIdMatches);

  function plausibleAge(person, onDay) {
    if (person.birth_date > onDay) {
      throw broken("born_after_event", { pid: person.person_id, birth: person.birth_date, day: onDay });
    }
    if (ageOn(person.birth_date, onDay) > MAX_AGE) {
      throw broken("implausible_age", { pid: person.person_id, max: MAX_AGE });
    }
  }
  function sameDay(name, value, occurredOn) {
    if (value !== occurredOn) throw broken("date_mismatch", { name, value, day: occurredOn });
  }
  function distinct(a, b, what) {
    if (a === b) throw broken("same_person", { what, pid: a });
  }
  function movePlace(kind, code, onDay, ctx) {
    if ((kind === "ANOTHER_COMMUNE") !== (code !== null)) throw broken("move_place_mismatch");
    communeExists(code, onDay, ctx);
  }
  function uniqueIds(ids) {
    if (new Set(ids).size !== ids.length) throw broken("duplicate_person");
  }
  function notSelf(event) {
    if (event.target_event_id === event.envelope.event_id) throw broken("self_reference");
  }
  function jsonValue(encoded) {
    try {
      JSON.parse(encoded);
      return true;
    } catch (error) {
      // Python's json also reads these bare constants.
      return ["NaN", "Infinity", "-Infinity"].includes(encoded.trim());
    }
  }
  function correctedFields(value) {
    for (const [path, encoded] of Object.entries(value)) {
      refuseForbidden(path);
      refuseForbidden(encoded);
      if (path.split(".")[0] === "envelope" && path !== "envelope.occurred_on") {
        throw broken("immutable_field", { path });
      }
      if (!jsonValue(encoded)) throw broken("invalid_json", { path });
    }
  }
  const typeTag = (name) => (value) => {
    if (value !== name) throw broken("literal_error");
    return value;
  };

  const MODELS = {
    HouseholdEnumerated: model([
      ["type", typeTag("HouseholdEnumerated"), "HouseholdEnumerated"],
      ["envelope", Envelope, REQUIRED],
      ["address", text, REQUIRED],
      ["head_person_id", id, REQUIRED],
      ["member_count", integer(1, 50), REQUIRED],
    ]),
    PersonEnumerated: model([
      ["type", typeTag("PersonEnumerated"), "PersonEnumerated"],
      ["envelope", Envelope, REQUIRED],
      ["person", Person, REQUIRED],
      ["relation_to_head", oneOf("RelationToHead"), REQUIRED],
      ["spouse_id", nullable(id), null],
    ], (e) => {
      plausibleAge(e.person, e.envelope.occurred_on);
      if (e.spouse_id !== null) {
        distinct(e.person.person_id, e.spouse_id, "a marriage");
        if (e.person.marital_status !== "MARRIED") throw broken("spouse_not_married");
      }
    }),
    BirthRegistered: model([
      ["type", typeTag("BirthRegistered"), "BirthRegistered"],
      ["envelope", Envelope, REQUIRED],
      ["child", Person, REQUIRED],
      ["mother_id", id, REQUIRED],
      ["father_id", nullable(id), null],
      ["birth_order", integer(1, 20), REQUIRED],
    ], (e) => {
      sameDay("child.birth_date", e.child.birth_date, e.envelope.occurred_on);
      if (!["NEVER_MARRIED", "UNKNOWN"].includes(e.child.marital_status)) throw broken("married_newborn");
      for (const parent of [e.mother_id, e.father_id]) {
        if (parent !== null) distinct(e.child.person_id, parent, "child and parent");
      }
    }),
    DeathRegistered: model([
      ["type", typeTag("DeathRegistered"), "DeathRegistered"],
      ["envelope", Envelope, REQUIRED],
      ["person_id", id, REQUIRED],
      ["date_of_death", day, REQUIRED],
      ["age_at_death", integer(0, MAX_AGE), REQUIRED],
      ["place", oneOf("PlaceOfDeath"), REQUIRED],
    ], (e) => sameDay("date_of_death", e.date_of_death, e.envelope.occurred_on)),
    MarriageRegistered: model([
      ["type", typeTag("MarriageRegistered"), "MarriageRegistered"],
      ["envelope", Envelope, REQUIRED],
      ["spouse_a_id", id, REQUIRED],
      ["spouse_b_id", id, REQUIRED],
      ["marriage_date", day, REQUIRED],
      ["household_after", id, REQUIRED],
    ], (e) => {
      sameDay("marriage_date", e.marriage_date, e.envelope.occurred_on);
      distinct(e.spouse_a_id, e.spouse_b_id, "a marriage");
    }),
    DivorceRegistered: model([
      ["type", typeTag("DivorceRegistered"), "DivorceRegistered"],
      ["envelope", Envelope, REQUIRED],
      ["spouse_a_id", id, REQUIRED],
      ["spouse_b_id", id, REQUIRED],
      ["divorce_date", day, REQUIRED],
    ], (e) => {
      sameDay("divorce_date", e.divorce_date, e.envelope.occurred_on);
      distinct(e.spouse_a_id, e.spouse_b_id, "a divorce");
    }),
    MovedIn: model([
      ["type", typeTag("MovedIn"), "MovedIn"],
      ["envelope", Envelope, REQUIRED],
      ["person_ids", listOf(id, 1, 50), REQUIRED],
      ["persons", listOf(Person, 0, 50), () => []],
      ["origin", oneOf("MoveKind"), REQUIRED],
      ["origin_commune_code", nullable(communeCode), null],
    ], (e, ctx) => {
      uniqueIds(e.person_ids);
      const onDay = e.envelope.occurred_on;
      for (const person of e.persons) {
        if (!e.person_ids.includes(person.person_id)) {
          throw broken("unlisted_person", { pid: person.person_id });
        }
        plausibleAge(person, onDay);
      }
      movePlace(e.origin, e.origin_commune_code, onDay, ctx);
    }),
    MovedOut: model([
      ["type", typeTag("MovedOut"), "MovedOut"],
      ["envelope", Envelope, REQUIRED],
      ["person_ids", listOf(id, 1, 50), REQUIRED],
      ["destination", oneOf("MoveKind"), REQUIRED],
      ["destination_commune_code", nullable(communeCode), null],
    ], (e, ctx) => {
      uniqueIds(e.person_ids);
      movePlace(e.destination, e.destination_commune_code, e.envelope.occurred_on, ctx);
    }),
    EventVoided: model([
      ["type", typeTag("EventVoided"), "EventVoided"],
      ["envelope", Envelope, REQUIRED],
      ["target_event_id", uuid, REQUIRED],
      ["reason", text, REQUIRED],
    ], notSelf),
    EventAmended: model([
      ["type", typeTag("EventAmended"), "EventAmended"],
      ["envelope", Envelope, REQUIRED],
      ["target_event_id", uuid, REQUIRED],
      ["reason", text, REQUIRED],
      ["corrected_fields", dictOfStr(1, correctedFields), REQUIRED],
    ], notSelf),
  };

  function prepareCommunes(communes) {
    if (!communes) return null;
    if (!communes.beforeSet) communes.beforeSet = new Set(communes.before);
    return communes;
  }

  function validate(event, options) {
    const opts = options || {};
    const ctx = {
      now: opts.now === null ? null : (opts.now ? new Date(opts.now) : new Date()),
      communes: prepareCommunes(opts.communes),
    };
    const problems = [];
    if (!isObject(event)) return [{ field: "", rule: "model_attributes_type" }];
    if (!("type" in event)) return [{ field: "type", rule: "missing" }];
    const spec = MODELS[event.type];
    if (!spec) return [{ field: "type", rule: "unknown_type" }];
    runModel(spec, event, [], ctx, problems);
    return problems;
  }

  root.PopregRules = {
    validate, ENUMS, EVENT_TYPES: Object.keys(MODELS), todayIn, ageOn, cleanText,
    communeExists: (code, dayValue, communes) => {
      try {
        communeExists(code, dayValue, { communes: prepareCommunes(communes) });
        return true;
      } catch (error) {
        return false;
      }
    },
  };
})(typeof self !== "undefined" ? self : this);
