// The map page: provinces as a choropleth of one indicator and year; one province's
// communes as proportional symbols (size: population, colour: the indicator). "As they
// were", for a year before the reform, draws both in the units of the time: the 63
// former provinces and a former province's former communes.
// window.portalState says what is drawn, for the browser tests.
const state = { provinces: 0, communes: 0, stamp: null, refreshes: 0, values: {}, communeValues: {} };
window.portalState = state;
const el = (id) => document.getElementById(id);
let me, geo, geoBefore, communePoints, communesBefore, beforeLoaded, mapChart, communeChart;
const REFORM_YEAR = 2025;  // 2025-07-01: the 63 provinces became 34; a year's end decides
const ISLANDS = ["20333", "22736"];  // Đặc khu Hoàng Sa (Đà Nẵng), Đặc khu Trường Sa (Khánh Hòa)

function visual(values) {
  const shown = values.filter((v) => v !== null);
  return {
    type: "continuous", min: shown.length ? Math.min(...shown) : 0,
    max: shown.length ? Math.max(...shown, Math.min(...shown) + 1e-9) : 1,
    inRange: { color: VIRIDIS }, calculable: true, left: 8, bottom: 8,
  };
}

// "as_was" draws a year before the reform in the 63 provinces of the time, with the
// figures counted in them; from 2025 on both choices are today's 34.
function asWas() { return el("units").value === "as_was" && Number(el("year").value) < REFORM_YEAR; }

// The former provinces' outlines and the former communes' points, fetched once, when
// first drawn.
function loadBefore() {
  beforeLoaded = beforeLoaded || Promise.all([
    fetch("/static/geo/provinces-before-2025-07-01.json").then((r) => r.json()),
    fetch("/static/geo/communes-before-2025-07-01.json").then((r) => r.json()),
  ]).then(([outlines, points]) => {
    geoBefore = outlines; communesBefore = points;
    echarts.registerMap("vn-before", geoBefore);
  });
  return beforeLoaded;
}

// The province selector beside the communes lists the provinces of the units drawn
// (the 63 former ones "as they were" before the reform), those the viewer may see (a
// province's viewer: it, and the former provinces merged into it); a
// chosen code that exists in both lists stays chosen.
function listProvinces(wanted) {
  const features = asWas() ? geoBefore.features : geo.features;
  const choice = el("province");
  const keep = wanted || choice.value;
  const shown = [...features].sort((a, b) => a.properties.code.localeCompare(b.properties.code))
    .filter((f) => me.provinces === null || me.provinces.includes(f.properties.code));
  const codes = shown.map((f) => f.properties.code);
  if (choice.options.length === codes.length && [...choice.options].every((o, i) => o.value === codes[i])) {
    if (codes.includes(keep)) choice.value = keep;
    return;
  }
  choice.replaceChildren(...shown.map((f) => new Option(f.properties.name, f.properties.code)));
  choice.value = codes.includes(keep) ? keep : codes.includes(me.province) ? me.province : codes.includes("96") ? "96" : codes[0];
}

async function drawProvinces() {
  const indicator = el("indicator").value, year = el("year").value;
  const units = asWas() ? "as_was" : "current";
  el("unitsNote").hidden = !(el("units").value === "as_was" && !asWas());
  const found = await api(`/api/map?indicator=${indicator}&year=${year}&units=${units}`);
  state.values = Object.fromEntries(found.map((v) => [v.code, v.value]));
  state.units = units;
  mapChart.setOption({
    animation: false,  // drawn at once: a refresh every few seconds must not replay a growth
    tooltip: { trigger: "item", formatter: (p) => p.seriesType === "scatter" ? p.name : `${p.data ? p.data.label : p.name}<br>${indicatorName(indicator)}: ${formatNumber(p.data ? p.data.value : null)}` },
    visualMap: { ...visual(found.map((v) => v.value)), seriesIndex: 0 },
    geo: {
      map: units === "as_was" ? "vn-before" : "vn", nameProperty: "code", roam: true, selectedMode: false,
      itemStyle: { borderColor: "#fff", borderWidth: 0.5, areaColor: "#ccc" },
      emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffb000" } },
    },
    series: [
      { type: "map", geoIndex: 0, data: found.map((v) => ({ name: v.code, label: v.name, value: v.value })) },
      // the island special zones (đặc khu Hoàng Sa, Trường Sa), which the outlines lack
      { type: "scatter", coordinateSystem: "geo", symbolSize: 6, itemStyle: { color: "#555" },
        label: { show: true, position: "left", fontSize: 10, formatter: (p) => p.name },
        data: ISLANDS.map((code) => communePoints.find((c) => c.code === code))
          .filter(Boolean).map((c) => ({ name: c.name, value: [c.lon, c.lat] })) },
    ],
  }, { replaceMerge: ["series", "geo"] });
  // the regions the map draws (the series' own data also lists regions it filled in)
  state.provinces = mapChart.getModel().getComponent("geo", 0).coordinateSystem.regions.length;
  state.islands = mapChart.getOption().series[1].data.length;
}

async function drawCommunes() {
  const indicator = el("indicator").value, year = el("year").value, province = el("province").value;
  const units = asWas() ? "as_was" : "current";
  const [values, people] = await Promise.all([
    api(`/api/map?indicator=${indicator}&year=${year}&province=${province}&units=${units}`),
    api(`/api/map?indicator=population_end&year=${year}&province=${province}&units=${units}`),
  ]);
  const size = Object.fromEntries(people.map((v) => [v.code, v.value || 0]));
  const largest = Math.max(1, ...Object.values(size));
  const outlines = units === "as_was" ? geoBefore : geo;
  const outline = { type: "FeatureCollection", features: outlines.features.filter((f) => f.properties.code === province) };
  echarts.registerMap(`${units}-p${province}`, outline);
  const points = (units === "as_was" ? communesBefore : communePoints).filter((c) => c.province === province);
  const valueOf = Object.fromEntries(values.map((v) => [v.code, v.value]));
  // a commune the map source gives no position is not drawn, and the page says so
  const placed = new Set(points.map((c) => c.code));
  const unplaced = values.filter((v) => !placed.has(v.code));
  state.communeUnits = units;
  state.communeValues = valueOf;
  state.unplaced = unplaced.map((v) => v.code);
  el("communesAsWas").hidden = units !== "as_was";
  el("unplaced").hidden = unplaced.length === 0;
  el("unplacedList").textContent = `${unplaced.length}: ${unplaced.map((v) => `${v.name} (${v.code})`).join(", ")}`;
  // The colour maps the figure (the third dimension of each point), not its
  // coordinates; a commune without a figure keeps the series' grey.
  const scale = { ...visual(values.map((v) => v.value)), dimension: 2, seriesIndex: 0 };
  communeChart.setOption({
    animation: false,
    tooltip: { trigger: "item", formatter: (p) => `${p.data.label} (${p.data.code})<br>${indicatorName(indicator)}: ${formatNumber(p.data.figure)}` },
    visualMap: scale,
    geo: { map: `${units}-p${province}`, roam: true, itemStyle: { areaColor: "#eee", borderColor: "#999" } },
    series: [{
      type: "scatter", coordinateSystem: "geo",
      data: points.map((c) => {
        const figure = valueOf[c.code] ?? null;
        return { name: c.code, code: c.code, label: c.name, figure, value: [c.lon, c.lat, figure ?? "-"] };
      }),
      symbolSize: (v, p) => 4 + 26 * Math.sqrt((size[p.data.code] || 0) / largest),
      itemStyle: { color: "#bbb", borderColor: "#333", borderWidth: 0.5, opacity: 0.9 },
    }],
  }, { replaceMerge: ["series", "geo"] });
  state.communes = communeChart.getOption().series[0].data.length;
}

async function redraw() {
  el("yearShown").textContent = el("year").value;
  if (asWas()) await loadBefore();
  listProvinces();
  await Promise.all([drawProvinces(), drawCommunes()]);
  state.refreshes += 1;
  el("updated").textContent = `${t("updated")} ${new Date().toLocaleTimeString()}`;
}

async function poll() {
  const home = me.home;
  try {
    const { stamp } = await api(`/api/pulse?level=${home.level}&code=${home.code}&period=${el("year").value}`);
    if (state.stamp !== null && stamp !== state.stamp) await redraw();
    state.stamp = stamp;
  } finally { setTimeout(poll, 1000); }
}

async function start() {
  applyLanguage();
  me = await api("/api/me");
  el("home").href = `/unit?level=${me.home.level}&code=${me.home.code}`;
  const [catalog, provinces, communes] = await Promise.all([
    api("/api/catalog"), fetch("/static/geo/provinces.json").then((r) => r.json()),
    fetch("/static/geo/communes.json").then((r) => r.json()),
  ]);
  geo = provinces; communePoints = communes;
  for (const c of catalog) el("indicator").add(new Option(indicatorName(c.indicator), c.indicator));
  el("indicator").value = "crude_birth_rate";
  const sorted = [...geo.features].sort((a, b) => a.properties.code.localeCompare(b.properties.code));
  for (const f of sorted) {
    // the pages open today's provinces only: a former province has no page of its own
    if (me.province === null || me.province === f.properties.code) {
      el("openProvince").add(new Option(f.properties.name, f.properties.code));
    }
  }
  const asked = new URLSearchParams(location.search);
  // the slider reaches the current year; it opens on the last complete one
  const thisYear = new Date().getFullYear();
  el("year").max = String(thisYear);
  el("year").setAttribute("aria-valuemax", String(thisYear));
  el("year").value = asked.get("year") || String(thisYear - 1);
  echarts.registerMap("vn", geo);
  mapChart = echarts.init(el("map"));
  communeChart = echarts.init(el("communes"));
  mapChart.on("click", (p) => {
    const code = p.componentType === "geo" ? p.name : p.seriesType === "map" ? p.name : null;
    // a former province has no page of its own: only today's open one
    if (code && geo.features.some((f) => f.properties.code === code)) location.href = `/unit?level=province&code=${code}`;
  });
  // a former commune has no page of its own either (its figures are the map's)
  communeChart.on("click", (p) => { if (!asWas()) location.href = `/unit?level=commune&code=${p.data.code}`; });
  el("openProvince").addEventListener("change", (e) => { location.href = `/unit?level=province&code=${e.target.value}`; });
  el("units").value = asked.get("units") === "as_was" ? "as_was" : "current";
  if (asWas()) await loadBefore();
  listProvinces(asked.get("province") || me.province || "96");
  for (const id of ["indicator", "year", "province", "units"]) el(id).addEventListener("change", redraw);
  el("year").addEventListener("input", () => { el("yearShown").textContent = el("year").value; });
  await redraw();
  state.ready = true;
  poll();
}
start();
