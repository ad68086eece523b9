// A unit's page: every indicator with its definition and a sparkline over the years,
// the pyramid on a date (and a second date to compare), births/deaths/moves by month,
// the events rejected by reason, the units below and above. window.portalState holds
// what is shown, for the tests.
const state = { figures: {}, series: {}, years: [], pyramid: [], monthly: {}, rejections: [], forecast: null, stamp: null, refreshes: 0 };
window.portalState = state;
const el = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const level = query.get("level") || "nation", code = query.get("code") || "";
const unitQuery = `level=${level}&code=${code}`;
let pyramidChart, monthlyChart, forecastChart, forecastPyramidChart;

function sparkline(values) {
  const shown = values.map((v, i) => [i, v]).filter(([, v]) => v !== null);
  if (shown.length < 2) return "";
  const low = Math.min(...shown.map(([, v]) => v)), high = Math.max(...shown.map(([, v]) => v));
  const x = (i) => 2 + (116 * i) / (values.length - 1), y = (v) => 26 - (24 * (v - low)) / (high - low || 1);
  const points = shown.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return `<svg class="spark" viewBox="0 0 120 28" aria-hidden="true"><polyline fill="none" stroke="#31688e" stroke-width="1.5" points="${points}"/></svg>`;
}

// The period's figures, the years behind the sparklines and the months of the period's
// year come in one answer: the server computes them in one pass (indicator_grid).
async function drawIndicators() {
  const period = el("period").value, year = period.slice(0, 4);
  const found = await api(`/api/figures?${unitQuery}&period=${period}&first=2015&last=2025&year=${year}`);
  state.figures = Object.fromEntries(found.indicators.map((f) => [f.indicator, f.value]));
  state.series = found.series;
  state.years = found.years;
  el("figures").tBodies[0].innerHTML = found.indicators.map((f) => `<tr data-indicator="${f.indicator}">
    <th scope="row" title="${inLanguage(f.definition_vi, f.definition)}">${indicatorName(f.indicator)}</th><td class="value">${formatNumber(f.value)}</td>
    <td>${inLanguage(f.unit_vi, f.unit)}</td><td>${sparkline(found.series[f.indicator] || [])}</td>
    <td class="definition">${inLanguage(f.definition_vi, f.definition)}</td></tr>`).join("");
  drawMonthly(year, found.monthly);
}

async function drawPyramid() {
  const on = el("on").value, compare = el("compare").value;
  const first = await api(`/api/pyramid?${unitQuery}&on=${on}`);
  const second = compare ? await api(`/api/pyramid?${unitQuery}&on=${compare}`) : null;
  state.pyramid = first;
  const groups = first.map((g) => g.age_group);
  const series = [
    { name: `${t("male")} ${on}`, type: "bar", stack: "a", data: first.map((g) => -g.male), itemStyle: { color: "#3e4989" } },
    { name: `${t("female")} ${on}`, type: "bar", stack: "a", data: first.map((g) => g.female), itemStyle: { color: "#35b779" } },
  ];
  if (second) {
    series.push(
      { name: `${t("male")} ${compare}`, type: "line", step: "middle", data: second.map((g) => -g.male), itemStyle: { color: "#fde725" }, lineStyle: { color: "#000" } },
      { name: `${t("female")} ${compare}`, type: "line", step: "middle", data: second.map((g) => g.female), itemStyle: { color: "#fde725" }, lineStyle: { color: "#000", type: "dashed" } },
    );
  }
  pyramidChart.setOption({
    animation: false,
    tooltip: { trigger: "axis", valueFormatter: (v) => formatNumber(Math.abs(v)) },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "value", axisLabel: { formatter: (v) => formatNumber(Math.abs(v)) } },
    yAxis: { type: "category", data: groups },
    series,
  }, { replaceMerge: ["series"] });
}

function drawMonthly(year, found) {
  state.monthly = found;
  const colours = { births: "#35b779", deaths: "#440154", in_migrants: "#31688e", out_migrants: "#b5de2b" };
  monthlyChart.setOption({
    animation: false,
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    xAxis: { type: "category", data: [...Array(12).keys()].map((m) => `${year}-${String(m + 1).padStart(2, "0")}`) },
    yAxis: { type: "value" },
    series: Object.entries(found).map(([name, values]) => ({ name: t(name), type: "line", data: values, itemStyle: { color: colours[name] } })),
  }, { replaceMerge: ["series"] });
}

// The newest stored forecast: the registered population over the years, then the medium
// variant with the low and high variants as a band; the projected pyramid of a chosen year.
async function loadForecast() {
  state.forecast = await api(`/api/forecast?${unitQuery}`);
  const found = state.forecast;
  el("forecastChart").hidden = !found;
  el("forecastControls").hidden = el("forecastPyramid").hidden = !found;
  if (!found) { el("forecastNote").textContent = t("noForecast"); return; }
  const method = level === "commune" ? t("forecastMethodCommune") : t("forecastMethod");
  el("forecastNote").textContent = `${t("forecastFrom")} ${found.base_date}; ${method}.`;
  el("forecastYear").replaceChildren(...found.years.map((d) => new Option(d.slice(0, 4), d)));
  el("forecastYear").value = found.years[found.years.length - 1];
  forecastChart = forecastChart || echarts.init(el("forecastChart"));
  forecastPyramidChart = forecastPyramidChart || echarts.init(el("forecastPyramid"));
  drawForecastPyramid();
}

function drawForecast() {
  const found = state.forecast;
  if (!found) return;
  const registered = state.series.population_end || [];
  const years = [...new Set([...state.years, ...found.years.map((d) => Number(d.slice(0, 4)))])].sort((a, b) => a - b);
  const baseYear = Number(found.base_date.slice(0, 4));
  const atBase = found.base_date.endsWith("-12-31") ? registered[state.years.indexOf(baseYear)] : undefined;
  const projected = (name) => years.map((y) => {
    if (y === baseYear && atBase !== undefined) return atBase;
    const i = found.years.findIndex((d) => Number(d.slice(0, 4)) === y);
    return i < 0 || !found.variants[name] ? null : found.variants[name].population[i];
  });
  const low = projected("low"), high = projected("high"), medium = projected("medium");
  const hasBand = found.variants.low && found.variants.high;
  const series = [
    { name: t("registered"), type: "line", data: years.map((y) => { const i = state.years.indexOf(y); return i < 0 ? null : registered[i]; }), itemStyle: { color: "#440154" } },
  ];
  if (hasBand) {
    series.push(
      { name: "low-base", type: "line", stack: "band", data: low, lineStyle: { opacity: 0 }, symbol: "none", silent: true, tooltip: { show: false } },
      { name: t("band"), type: "line", stack: "band", data: low.map((v, i) => (v === null || high[i] === null ? null : high[i] - v)), lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: "#21918c", opacity: 0.25 }, itemStyle: { color: "#21918c" } },
    );
  }
  if (found.variants.medium) series.push({ name: t("medium"), type: "line", data: medium, lineStyle: { type: "dashed" }, itemStyle: { color: "#31688e" } });
  state.forecastBand = { years, low, medium, high };
  forecastChart.setOption({
    animation: false,
    legend: { top: 0, data: series.map((s) => s.name).filter((n) => n !== "low-base") },
    tooltip: {
      trigger: "axis",
      formatter: (items) => {
        const i = items[0].dataIndex, rows = [`${years[i]}`];
        if (series[0].data[i] !== null) rows.push(`${t("registered")}: ${formatNumber(Math.round(series[0].data[i]))}`);
        for (const name of ["low", "medium", "high"]) {
          const v = { low, medium, high }[name][i];
          if (v !== null && found.variants[name] && years[i] !== baseYear) rows.push(`${t(name)}: ${formatNumber(Math.round(v))}`);
        }
        return rows.join("<br>");
      },
    },
    grid: { left: 70, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: years.map(String) },
    yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => formatNumber(v) } },
    series,
  }, { replaceMerge: ["series"] });
}

function drawForecastPyramid() {
  const found = state.forecast, on = el("forecastYear").value;
  const variant = found.variants.medium || Object.values(found.variants)[0];
  const groups = variant.pyramids[found.years.indexOf(on)];
  state.forecastPyramid = { on, groups };
  forecastPyramidChart.setOption({
    animation: false,
    tooltip: { trigger: "axis", valueFormatter: (v) => formatNumber(Math.round(Math.abs(v))) },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "value", axisLabel: { formatter: (v) => formatNumber(Math.abs(v)) } },
    yAxis: { type: "category", data: groups.map((g) => g.age_group) },
    series: [
      { name: `${t("male")} ${on}`, type: "bar", stack: "a", data: groups.map((g) => -g.male), itemStyle: { color: "#3e4989" } },
      { name: `${t("female")} ${on}`, type: "bar", stack: "a", data: groups.map((g) => g.female), itemStyle: { color: "#35b779" } },
    ],
  }, { replaceMerge: ["series"] });
}

async function drawRejections() {
  const rows = await api(`/api/rejections?${unitQuery}&period=${el("period").value}`);
  state.rejections = rows;
  el("rejections").tBodies[0].innerHTML = rows.map((r) => `<tr><td>${r.commune_code}</td><td>${r.reason}</td>
    <td class="value">${formatNumber(r.rejected)}</td><td class="value">${formatNumber(r.submitted)}</td>
    <td class="value">${formatNumber(r.rate)}</td></tr>`).join("");
}

// the download links follow the period and the pyramid's date shown
function linkDownloads() {
  const period = el("period").value;
  const asked = {
    indicators: `period=${period}`, pyramid: `period=${period}&on=${el("on").value}`,
    monthly: `period=${period}`, rejections: `period=${period}`,
  };
  for (const [table, extra] of Object.entries(asked)) {
    for (const format of ["csv", "xlsx"]) {
      const id = `${table}${format === "csv" ? "Csv" : "Xlsx"}`;
      el(id).href = `/api/export/${table}.${format}?${unitQuery}&${extra}&lang=${language()}`;
      el(id).setAttribute("download", "");
    }
  }
  if (level !== "nation") {
    el("report").hidden = false;
    el("report").href = `/api/report.pdf?${unitQuery}&year=${period.slice(0, 4)}&units=current`;
  }
}

async function redraw() {
  linkDownloads();
  await Promise.all([drawIndicators(), drawPyramid(), drawRejections()]);
  drawForecast();
  state.refreshes += 1;
  el("updated").textContent = `${t("updated")} ${new Date().toLocaleTimeString()}`;
}

async function poll() {
  try {
    const { stamp } = await api(`/api/pulse?${unitQuery}&period=${el("period").value}`);
    if (state.stamp !== null && stamp !== state.stamp) await redraw();
    state.stamp = stamp;
  } finally { setTimeout(poll, 1000); }
}

async function start() {
  applyLanguage();
  for (let year = 2025; year >= 2015; year--) el("period").add(new Option(String(year), String(year)));
  el("period").value = query.get("period") || "2025";
  const info = await api(`/api/unit?${unitQuery}`);
  el("title").textContent = `${t(level)}: ${info.unit.name}${code ? ` (${code})` : ""}`;
  document.title = `popreg — ${info.unit.name}`;
  if (info.parent) {
    el("upLink").hidden = false;
    el("upLink").href = `/unit?level=${info.parent.level}&code=${info.parent.code}`;
    el("upName").textContent = info.parent.name;
  }
  el("children").innerHTML = info.children.map((c) => `<a href="/unit?level=${c.level}&code=${c.code}">${c.name}</a>`).join(" ");
  pyramidChart = echarts.init(el("pyramid"));
  monthlyChart = echarts.init(el("monthly"));
  for (const id of ["period", "on", "compare"]) el(id).addEventListener("change", redraw);
  el("forecastYear").addEventListener("change", drawForecastPyramid);
  await Promise.all([loadForecast(), redraw()]);
  drawForecast();
  state.ready = true;
  poll();
}
start();
