// The portal's words in Vietnamese (default) and English. The choice is kept in
// localStorage; every element with data-i18n gets its text from here.
const WORDS = {
  vi: {
    login: "Đăng nhập", loginFailed: "Sai tên đăng nhập hoặc mật khẩu.", user: "Tên đăng nhập",
    password: "Mật khẩu", logout: "Đăng xuất", map: "Bản đồ", indicator: "Chỉ tiêu", year: "Năm",
    nation: "Toàn quốc", province: "Tỉnh/thành phố", commune: "Xã/phường", value: "Giá trị",
    unit: "Đơn vị", definition: "Định nghĩa", trend: "Xu hướng", pyramid: "Tháp dân số",
    date: "Ngày", compare: "So sánh với ngày", male: "Nam", female: "Nữ", period: "Kỳ",
    up: "Lên cấp trên", below: "Đơn vị cấp dưới", monthly: "Theo tháng", rejections: "Sự kiện bị từ chối",
    reason: "Lý do", live: "Cập nhật trực tiếp", updated: "cập nhật lúc", noData: "không có số liệu",
    communesOf: "Các xã/phường của tỉnh", language: "English", open: "Mở trang", credits: "Nguồn bản đồ", creditsUnits: "đơn vị hành chính: Tổng cục Thống kê",
    births: "Sinh", deaths: "Chết", in_migrants: "Chuyển đến", out_migrants: "Chuyển đi",
    csv: "Tải CSV", xlsx: "Tải XLSX", report: "Báo cáo năm (PDF)", indicatorsTable: "Bảng chỉ tiêu",
    unitsLabel: "Đơn vị hành chính", unitsCurrent: "hiện hành (34 tỉnh)", unitsAsWas: "như lúc đó (63 tỉnh trước 01/7/2025)",
    unitsNote: "Từ năm 2025: 34 tỉnh, thành phố.",
    rejected: "Bị từ chối", submitted: "Đã gửi", rate: "Tỷ lệ (%)",
    communesAsWas: "Xã/phường như lúc đó (trước 01/7/2025).",
    unplaced: "Xã/phường không có tọa độ (hoặc có tọa độ sai) trong nguồn bản đồ, không vẽ",
    forecast: "Dự báo dân số", forecastYear: "Tháp dân số dự báo, năm", registered: "Dân số đã đăng ký (31/12)",
    low: "Phương án thấp", medium: "Phương án trung bình", high: "Phương án cao", band: "Khoảng thấp – cao",
    noForecast: "Chưa có dự báo nào được lưu cho đơn vị này (người vận hành chạy: popreg forecast --variant all --store).",
    forecastFrom: "Dự báo từ dân số ngày", forecastMethod: "phương pháp thành phần theo đoàn hệ; phương án thấp và cao: tổng tỷ suất sinh ∓ 0,5 con",
    forecastMethodCommune: "tỷ số thay đổi đoàn hệ (Hamilton–Perry), khớp với dự báo của tỉnh",
  },
  en: {
    login: "Log in", loginFailed: "Wrong user name or password.", user: "User name",
    password: "Password", logout: "Log out", map: "Map", indicator: "Indicator", year: "Year",
    nation: "Nation", province: "Province", commune: "Commune", value: "Value",
    unit: "Unit", definition: "Definition", trend: "Trend", pyramid: "Population pyramid",
    date: "Date", compare: "Compare with", male: "Male", female: "Female", period: "Period",
    up: "Up one level", below: "Units below", monthly: "By month", rejections: "Rejected events",
    reason: "Reason", live: "Live", updated: "updated at", noData: "no data",
    communesOf: "Communes of the province", language: "Tiếng Việt", open: "Open page", credits: "Map sources", creditsUnits: "administrative units: General Statistics Office",
    births: "Births", deaths: "Deaths", in_migrants: "Moved in", out_migrants: "Moved out",
    csv: "Download CSV", xlsx: "Download XLSX", report: "Annual report (PDF)", indicatorsTable: "Indicators table",
    unitsLabel: "Administrative units", unitsCurrent: "as they are now (34 provinces)", unitsAsWas: "as they were (63 provinces before 1 July 2025)",
    unitsNote: "From 2025: 34 provinces.",
    rejected: "Rejected", submitted: "Submitted", rate: "Rate (%)",
    communesAsWas: "Communes as they were (before 1 July 2025).",
    unplaced: "Communes the map source has no (or a wrong) position for, not drawn",
    forecast: "Population forecast", forecastYear: "Projected pyramid, year", registered: "Registered population (31 Dec)",
    low: "Low variant", medium: "Medium variant", high: "High variant", band: "Low – high band",
    noForecast: "No forecast has been stored for this unit yet (an operator runs: popreg forecast --variant all --store).",
    forecastFrom: "Projected from the population on", forecastMethod: "cohort-component method; low and high variants: total fertility rate ∓ 0.5 child",
    forecastMethodCommune: "cohort-change ratios (Hamilton–Perry), kept to the province's forecast",
  },
};
const INDICATOR_VI = {
  population_end: "Dân số cuối kỳ", population_end_male: "Dân số nam cuối kỳ",
  population_end_female: "Dân số nữ cuối kỳ", population_mid: "Dân số trung bình",
  births: "Số sinh", deaths: "Số chết", marriages: "Số kết hôn", divorces: "Số ly hôn",
  in_migrants: "Số người chuyển đến", out_migrants: "Số người chuyển đi",
  crude_birth_rate: "Tỷ suất sinh thô", crude_death_rate: "Tỷ suất chết thô",
  natural_increase_rate: "Tỷ lệ tăng tự nhiên", general_fertility_rate: "Tỷ suất sinh chung",
  asfr_15_19: "Tỷ suất sinh 15-19 tuổi", asfr_20_24: "Tỷ suất sinh 20-24 tuổi",
  asfr_25_29: "Tỷ suất sinh 25-29 tuổi", asfr_30_34: "Tỷ suất sinh 30-34 tuổi",
  asfr_35_39: "Tỷ suất sinh 35-39 tuổi", asfr_40_44: "Tỷ suất sinh 40-44 tuổi",
  asfr_45_49: "Tỷ suất sinh 45-49 tuổi", total_fertility_rate: "Tổng tỷ suất sinh",
  sex_ratio_at_birth: "Tỷ số giới tính khi sinh", infant_mortality_rate: "Tỷ suất chết trẻ dưới 1 tuổi",
  under5_mortality_rate: "Tỷ suất chết trẻ dưới 5 tuổi", crude_marriage_rate: "Tỷ suất kết hôn thô",
  crude_divorce_rate: "Tỷ suất ly hôn thô", in_migration_rate: "Tỷ suất nhập cư",
  out_migration_rate: "Tỷ suất xuất cư", net_migration_rate: "Tỷ suất di cư thuần",
  dependency_ratio: "Tỷ số phụ thuộc chung", young_dependency_ratio: "Tỷ số phụ thuộc trẻ em",
  old_dependency_ratio: "Tỷ số phụ thuộc người già", ageing_index: "Chỉ số già hóa",
  average_household_size: "Quy mô hộ bình quân", smam_female: "Tuổi kết hôn trung bình lần đầu, nữ",
  smam_male: "Tuổi kết hôn trung bình lần đầu, nam", communes_online_share: "Tỷ lệ xã cập nhật trực tuyến",
  mobile_share: "Tỷ lệ đăng ký qua điện thoại", median_registration_delay: "Trung vị thời gian đăng ký",
  registered_within_30_days_share: "Tỷ lệ đăng ký trong 30 ngày",
  collaborators_active: "Cộng tác viên đang hoạt động", collaborators_mobile_share: "Tỷ lệ CTV ghi bằng điện thoại",
};
function language() { return localStorage.getItem("popreg-lang") || "vi"; }
function t(key) { return (WORDS[language()] || WORDS.vi)[key] || key; }
function inLanguage(vi, en) { return language() === "vi" ? vi : en; }
function indicatorName(name) {
  return language() === "vi" ? (INDICATOR_VI[name] || name) : name.replaceAll("_", " ");
}
function applyLanguage() {
  document.documentElement.lang = language();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
function toggleLanguage() {
  localStorage.setItem("popreg-lang", language() === "vi" ? "en" : "vi");
  location.reload();
}
function formatNumber(value) {
  if (value === null || value === undefined) return "—";
  const digits = Number.isInteger(value) ? 0 : 2;
  return value.toLocaleString(language() === "vi" ? "vi-VN" : "en-GB", {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}
async function api(path) {
  const answer = await fetch(path, { credentials: "same-origin" });
  if (answer.status === 401) { location.href = "/login"; throw new Error("not logged in"); }
  if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
  return answer.json();
}
// viridis, sampled: a sequential palette readable with every common colour-vision deficiency
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
