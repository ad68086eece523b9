// The map page: provinces as a choropleth of one indicator and year; one province's
// communes as proportional symbols (size: population, colour: the indicator).
// window.portalState says what is drawn, for the browser tests.
const state = { provinces: 0, communes: 0, stamp: null, refreshes: 0, values: {} };
window.portalState = state;
const el = (id) => document.getElementById(id);
let me, geo, communePoints, mapChart, communeChart;

function visual(values) {
  const shown = values.filter((v) => v !== null);
  return {
    type: "continuous", min: shown.length ? Math.min(...shown) : 0,
    max: shown.length ? Math.max(...shown, Math.min(...shown) + 1e-9) : 1,
    inRange: { color: VIRIDIS }, calculable: true, left: 8, bottom: 8,
  };
}

async function drawProvinces() {
  const indicator = el("indicator").value, year = el("year").value;
  const found = await api(`/api/map?indicator=${indicator}&year=${year}`);
  state.values = Object.fromEntries(found.map((v) => [v.code, v.value]));
  mapChart.setOption({
    tooltip: { trigger: "item", formatter: (p) => `${p.data ? p.data.label : p.name}<br>${indicatorName(indicator)}: ${formatNumber(p.data ? p.data.value : null)}` },
    visualMap: visual(found.map((v) => v.value)),
    series: [{
      type: "map", map: "vn", nameProperty: "code", roam: true, selectedMode: false,
      data: found.map((v) => ({ name: v.code, label: v.name, value: v.value })),
      itemStyle: { borderColor: "#fff", borderWidth: 0.5, areaColor: "#ccc" },
      emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffb000" } },
    }],
  }, { replaceMerge: ["series"] });
  state.provinces = mapChart.getOption().series[0].data.length;
}

// a symbol's colour from the scale (grey: no value), so that a commune without a figure
// is still drawn, sized by its population
function colour(value, scale) {
  if (value === null) return "#bbb";
  const share = (value - scale.min) / ((scale.max - scale.min) || 1);
  return VIRIDIS[Math.max(0, Math.min(VIRIDIS.length - 1, Math.round(share * (VIRIDIS.length - 1))))];
}

async function drawCommunes() {
  const indicator = el("indicator").value, year = el("year").value, province = el("province").value;
  const [values, people] = await Promise.all([
    api(`/api/map?indicator=${indicator}&year=${year}&province=${province}`),
    api(`/api/map?indicator=population_end&year=${year}&province=${province}`),
  ]);
  const size = Object.fromEntries(people.map((v) => [v.code, v.value || 0]));
  const largest = Math.max(1, ...Object.values(size));
  const outline = { type: "FeatureCollection", features: geo.features.filter((f) => f.properties.code === province) };
  echarts.registerMap(`p${province}`, outline);
  const points = communePoints.filter((c) => c.province === province);
  const valueOf = Object.fromEntries(values.map((v) => [v.code, v.value]));
  const scale = visual(values.map((v) => v.value));
  communeChart.setOption({
    tooltip: { trigger: "item", formatter: (p) => `${p.data.label} (${p.data.code})<br>${indicatorName(indicator)}: ${formatNumber(p.data.figure)}` },
    visualMap: { ...scale, seriesIndex: [], inRange: { color: VIRIDIS } },
    geo: { map: `p${province}`, roam: true, itemStyle: { areaColor: "#eee", borderColor: "#999" } },
    series: [{
      type: "scatter", coordinateSystem: "geo",
      data: points.map((c) => ({ name: c.code, code: c.code, label: c.name, value: [c.lon, c.lat], figure: valueOf[c.code] ?? null,
        itemStyle: { color: colour(valueOf[c.code] ?? null, scale) } })),
      symbolSize: (v, p) => 4 + 26 * Math.sqrt((size[p.data.code] || 0) / largest),
      itemStyle: { borderColor: "#333", borderWidth: 0.5, opacity: 0.9 },
    }],
  }, { replaceMerge: ["series", "geo"] });
  state.communes = communeChart.getOption().series[0].data.length;
}

async function redraw() {
  el("yearShown").textContent = el("year").value;
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
  } finally { setTimeout(poll, 2000); }
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
    if (me.province === null || me.province === f.properties.code) {
      el("province").add(new Option(f.properties.name, f.properties.code));
      el("openProvince").add(new Option(f.properties.name, f.properties.code));
    }
  }
  el("province").value = new URLSearchParams(location.search).get("province") || me.province || "96";
  echarts.registerMap("vn", geo);
  mapChart = echarts.init(el("map"));
  communeChart = echarts.init(el("communes"));
  mapChart.on("click", (p) => { location.href = `/unit?level=province&code=${p.name}`; });
  communeChart.on("click", (p) => { location.href = `/unit?level=commune&code=${p.data.code}`; });
  el("openProvince").addEventListener("change", (e) => { location.href = `/unit?level=province&code=${e.target.value}`; });
  for (const id of ["indicator", "year", "province"]) el(id).addEventListener("change", redraw);
  el("year").addEventListener("input", () => { el("yearShown").textContent = el("year").value; });
  await redraw();
  state.ready = true;
  poll();
}
start();
