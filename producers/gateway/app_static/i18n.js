// The app's words in Vietnamese (first) and English: screens, field names, and each
// rule code's message (schemas/models.py's codes, the registry's rejection reasons, the
// gateway's refusals). The choice is kept in localStorage.
(function (root) {
  "use strict";

  const WORDS = {
    vi: {
      title: "Cộng tác viên dân số", language: "English", online: "Có mạng", offline: "Không có mạng",
      activateTitle: "Kích hoạt tài khoản", activateHelp: "Nhập mã kích hoạt một lần do xã cấp (hoặc quét mã QR).",
      code: "Mã kích hoạt", activate: "Kích hoạt", activating: "Đang kích hoạt…",
      activated: "Đã kích hoạt", needOnline: "Cần có mạng để kích hoạt.",
      newRecord: "Ghi sự kiện mới", records: "Các sự kiện đã ghi", noRecords: "Chưa ghi sự kiện nào.",
      sendNow: "Gửi ngay", pendingCount: "chờ gửi", back: "Quay lại", save: "Lưu (gửi khi có mạng)",
      saved: "Đã lưu trên máy. Sẽ gửi khi có mạng.", fixErrors: "Vui lòng sửa các ô bị lỗi trước khi lưu.",
      household: "Hộ gia đình", findHousehold: "Tìm hộ (mã hộ hoặc tên chủ hộ)", find: "Tìm",
      noHousehold: "Không tìm thấy hộ nào trong xã của bạn.", searchOffline: "Không có mạng: tìm trong các hộ đã lưu trên máy.",
      chosen: "Đã chọn", members: "Thành viên", choose: "Chọn", none: "(không có)", otherId: "Mã người khác (nếu không ở hộ này)",
      state_pending: "Chờ gửi", state_accepted: "Đã gửi, chờ ghi vào sổ", state_applied: "Đã ghi vào sổ",
      state_rejected: "Bị từ chối", state_refused: "Không gửi được: tài khoản đã bị thu hồi",
      state_corrected: "Đã sửa và gửi lại", fixResend: "Sửa và gửi lại",
      revokedBanner: "Tài khoản của bạn đã bị thu hồi. Các sự kiện chưa gửi vẫn được giữ trên máy.",
      unauthorizedBanner: "Phiên làm việc không còn hiệu lực. Hãy kích hoạt lại.",
      reasonLabel: "Lý do", yes: "Có", no: "Không", addPerson: "Thêm người", removePerson: "Bỏ người này",
      target: "Sự kiện cần sửa/hủy", noOwnRecords: "Chưa có sự kiện nào của bạn đã được nhận.",
      amendHelp: "Sửa các ô cần sửa; chỉ các ô thay đổi được gửi.", newHousehold: "Hộ mới (mã tự tạo)",
      localHousehold: "ghi trên máy", headId: "Mã chủ hộ", chooseHousehold: "Hãy chọn hộ gia đình.",
      communeName: "Xã/phường", fieldProblem: "Lỗi", sentAt: "ghi lúc",
    },
    en: {
      title: "Population collaborator", language: "Tiếng Việt", online: "Online", offline: "Offline",
      activateTitle: "Activate your account", activateHelp: "Enter the one-time code your commune gave you (or scan its QR code).",
      code: "Activation code", activate: "Activate", activating: "Activating…",
      activated: "Activated", needOnline: "Activation needs a connection.",
      newRecord: "Record a new event", records: "Recorded events", noRecords: "No events recorded yet.",
      sendNow: "Send now", pendingCount: "waiting to be sent", back: "Back", save: "Save (sent when online)",
      saved: "Saved on the phone. It is sent when there is a connection.", fixErrors: "Please fix the fields marked before saving.",
      household: "Household", findHousehold: "Find a household (id or head's name)", find: "Find",
      noHousehold: "No household found in your commune.", searchOffline: "Offline: searching the households kept on this phone.",
      chosen: "Chosen", members: "Members", choose: "Choose", none: "(none)", otherId: "Another person's id (not of this household)",
      state_pending: "Waiting to be sent", state_accepted: "Sent, waiting for the registry", state_applied: "In the registry",
      state_rejected: "Rejected", state_refused: "Not sent: the account was revoked",
      state_corrected: "Corrected and sent again", fixResend: "Fix and send again",
      revokedBanner: "Your account was revoked. Events not yet sent stay on this phone.",
      unauthorizedBanner: "This session is no longer valid. Activate again.",
      reasonLabel: "Reason", yes: "Yes", no: "No", addPerson: "Add a person", removePerson: "Remove this person",
      target: "Event to correct or void", noOwnRecords: "None of your events has been accepted yet.",
      amendHelp: "Change the fields that are wrong; only changed fields are sent.", newHousehold: "New household (id made here)",
      localHousehold: "recorded on this phone", headId: "Head's id", chooseHousehold: "Choose a household.",
      communeName: "Commune", fieldProblem: "Problem", sentAt: "recorded at",
    },
  };

  const TYPES = {
    vi: {
      HouseholdEnumerated: "Điều tra hộ", PersonEnumerated: "Điều tra nhân khẩu", BirthRegistered: "Sinh",
      DeathRegistered: "Chết", MarriageRegistered: "Kết hôn", DivorceRegistered: "Ly hôn",
      MovedIn: "Chuyển đến", MovedOut: "Chuyển đi", EventVoided: "Hủy sự kiện đã ghi", EventAmended: "Sửa sự kiện đã ghi",
    },
    en: {
      HouseholdEnumerated: "Household enumeration", PersonEnumerated: "Person enumeration", BirthRegistered: "Birth",
      DeathRegistered: "Death", MarriageRegistered: "Marriage", DivorceRegistered: "Divorce",
      MovedIn: "Moved in", MovedOut: "Moved out", EventVoided: "Void a record", EventAmended: "Amend a record",
    },
  };

  // Field names by dotted path (list indexes dropped: persons.0.full_name -> persons.full_name).
  const FIELDS = {
    vi: {
      "": "Sự kiện", type: "Loại sự kiện", envelope: "Thông tin chung", "envelope.event_id": "Mã sự kiện",
      "envelope.occurred_on": "Ngày xảy ra", "envelope.recorded_at": "Thời điểm ghi",
      "envelope.commune_code": "Mã xã", "envelope.household_id": "Mã hộ", "envelope.reporter_id": "Người báo cáo",
      "envelope.channel": "Kênh", "envelope.source_system": "Hệ thống", "envelope.schema_version": "Phiên bản",
      address: "Địa chỉ", head_person_id: "Mã chủ hộ", member_count: "Số nhân khẩu",
      person: "Người", "person.person_id": "Mã người", "person.full_name": "Họ và tên", "person.sex": "Giới tính",
      "person.birth_date": "Ngày sinh", "person.ethnicity": "Dân tộc (mã 2 số)", "person.national_id": "Số định danh cá nhân",
      "person.marital_status": "Tình trạng hôn nhân", relation_to_head: "Quan hệ với chủ hộ", spouse_id: "Vợ/chồng",
      child: "Trẻ", "child.person_id": "Mã trẻ", "child.full_name": "Họ và tên trẻ", "child.sex": "Giới tính trẻ",
      "child.birth_date": "Ngày sinh", "child.ethnicity": "Dân tộc của trẻ (mã 2 số)",
      "child.national_id": "Số định danh của trẻ", "child.marital_status": "Tình trạng hôn nhân của trẻ",
      mother_id: "Mẹ", father_id: "Cha", birth_order: "Con thứ",
      person_id: "Người mất", date_of_death: "Ngày mất", age_at_death: "Tuổi khi mất", place: "Nơi mất",
      spouse_a_id: "Người thứ nhất", spouse_b_id: "Người thứ hai", marriage_date: "Ngày kết hôn",
      household_after: "Hộ sau kết hôn", divorce_date: "Ngày ly hôn",
      person_ids: "Những người chuyển", persons: "Người chuyển đến", "persons.person_id": "Mã người",
      "persons.full_name": "Họ và tên", "persons.sex": "Giới tính", "persons.birth_date": "Ngày sinh",
      "persons.ethnicity": "Dân tộc (mã 2 số)", "persons.national_id": "Số định danh cá nhân",
      "persons.marital_status": "Tình trạng hôn nhân", origin: "Chuyển đến từ", origin_commune_code: "Mã xã nơi đi",
      destination: "Chuyển đi đến", destination_commune_code: "Mã xã nơi đến",
      target_event_id: "Sự kiện cần sửa/hủy", reason: "Lý do", corrected_fields: "Các ô sửa",
    },
    en: {
      "": "Event", type: "Event type", envelope: "Envelope", "envelope.event_id": "Event id",
      "envelope.occurred_on": "Date", "envelope.recorded_at": "Recorded at",
      "envelope.commune_code": "Commune code", "envelope.household_id": "Household id", "envelope.reporter_id": "Reporter",
      "envelope.channel": "Channel", "envelope.source_system": "Source system", "envelope.schema_version": "Schema version",
      address: "Address", head_person_id: "Head's id", member_count: "Number of members",
      person: "Person", "person.person_id": "Person id", "person.full_name": "Full name", "person.sex": "Sex",
      "person.birth_date": "Date of birth", "person.ethnicity": "Ethnicity (2-digit code)", "person.national_id": "Citizen id",
      "person.marital_status": "Marital status", relation_to_head: "Relation to the head", spouse_id: "Spouse",
      child: "Child", "child.person_id": "Child's id", "child.full_name": "Child's full name", "child.sex": "Child's sex",
      "child.birth_date": "Date of birth", "child.ethnicity": "Child's ethnicity (2-digit code)",
      "child.national_id": "Child's citizen id", "child.marital_status": "Child's marital status",
      mother_id: "Mother", father_id: "Father", birth_order: "Birth order",
      person_id: "Deceased", date_of_death: "Date of death", age_at_death: "Age at death", place: "Place of death",
      spouse_a_id: "First spouse", spouse_b_id: "Second spouse", marriage_date: "Date of marriage",
      household_after: "Household after marriage", divorce_date: "Date of divorce",
      person_ids: "Persons who moved", persons: "Persons moving in", "persons.person_id": "Person id",
      "persons.full_name": "Full name", "persons.sex": "Sex", "persons.birth_date": "Date of birth",
      "persons.ethnicity": "Ethnicity (2-digit code)", "persons.national_id": "Citizen id",
      "persons.marital_status": "Marital status", origin: "Moved in from", origin_commune_code: "Commune moved from",
      destination: "Moved to", destination_commune_code: "Commune moved to",
      target_event_id: "Event to correct or void", reason: "Reason", corrected_fields: "Corrected fields",
    },
  };

  // Rule codes (validation, the registry's fold, the gateway's refusals) -> message.
  // {x} takes the problem's values.
  const RULES = {
    vi: {
      missing: "chưa nhập", string_type: "chưa nhập", too_short: "không được để trống", string_too_short: "không được để trống",
      too_long: "quá dài (tối đa {max} ký tự)", string_too_long: "quá dài (tối đa {max} ký tự)",
      string_pattern_mismatch: "chỉ được dùng chữ không dấu, số và . _ : -",
      control_character: "có ký tự ẩn hoặc ký tự điều khiển không được phép ({code})",
      enum: "hãy chọn một giá trị trong danh sách", int_type: "phải là một số", int_parsing: "phải là một số nguyên",
      int_from_float: "phải là một số nguyên", greater_than_equal: "phải từ {ge} trở lên", less_than_equal: "không được quá {le}",
      date_format: "ngày không đúng (dạng năm-tháng-ngày)", date_from_datetime_parsing: "ngày không có thật",
      date_parsing: "ngày không có thật", date_out_of_range: "ngày phải trong khoảng 1900 đến 2299",
      future_date: "ngày này sau hôm nay ({today})", timestamp_format: "thời điểm không đúng",
      datetime_from_date_parsing: "thời điểm không có thật", timezone_required: "thời điểm thiếu múi giờ",
      future_timestamp: "thời điểm ghi ở tương lai: hãy kiểm tra đồng hồ của điện thoại",
      recorded_before_occurred: "ngày xảy ra sau thời điểm ghi: hãy kiểm tra ngày và đồng hồ điện thoại",
      commune_code_format: "mã xã phải gồm 5 chữ số", unknown_commune: "không có xã mã {code} vào ngày {day}",
      province_code_format: "mã tỉnh phải gồm 2 chữ số", national_id_format: "số định danh phải gồm 12 chữ số",
      ethnicity_format: "mã dân tộc phải gồm 2 chữ số",
      national_id_mismatch: "số định danh không khớp với năm sinh hoặc giới tính",
      born_after_event: "ngày sinh sau ngày xảy ra sự kiện", implausible_age: "tuổi quá {max}: hãy kiểm tra ngày sinh",
      date_mismatch: "phải trùng với ngày xảy ra sự kiện", same_person: "hai ô chọn cùng một người",
      spouse_not_married: "có vợ/chồng nhưng tình trạng hôn nhân không phải 'Có vợ/chồng'",
      married_newborn: "trẻ sơ sinh phải là 'Chưa kết hôn'",
      move_place_mismatch: "chỉ nhập mã xã khi chuyển từ/đến một xã khác (và phải nhập khi đó)",
      duplicate_person: "một người được chọn hai lần", unlisted_person: "có người chưa được liệt kê",
      self_reference: "một sự kiện không thể tự sửa/hủy chính nó", immutable_field: "không được sửa ô {path}",
      invalid_json: "giá trị sửa của {path} không hợp lệ", uuid_parsing: "mã sự kiện không hợp lệ", uuid_type: "mã sự kiện không hợp lệ",
      extra_forbidden: "ô không có trong mẫu", model_type: "thiếu thông tin", model_attributes_type: "không phải một sự kiện",
      unknown_type: "loại sự kiện không có", list_type: "phải là một danh sách", dict_type: "phải là một danh sách ô sửa",
      event_id_conflict: "mã sự kiện đã được dùng cho một nội dung khác",
      reporter_mismatch: "người báo cáo không phải là bạn", not_permitted: "ngoài phạm vi xã của bạn",
      // the registry's reasons (projections/domain/fold.py, history.py)
      unknown_person: "người này không có trong sổ", unknown_mother: "người mẹ không có trong sổ",
      unknown_household: "hộ này không có trong sổ", dead_person: "người này đã mất",
      duplicate_enumeration: "người này đã được điều tra trước đó", already_married: "một trong hai người đang có vợ/chồng",
      already_member: "người này đã ở trong hộ", mother_age: "tuổi của người mẹ không hợp lý",
      mother_not_female: "người mẹ phải là nữ", not_married: "hai người này không phải vợ chồng của nhau",
      not_member: "người này không ở trong hộ", unknown_target: "không tìm thấy sự kiện cần sửa/hủy",
      correction_of_correction: "không thể sửa/hủy một lần sửa/hủy", invalid_amendment: "nội dung sửa làm sự kiện không hợp lệ",
      voided: "sự kiện đã bị hủy", revoked: "tài khoản đã bị thu hồi",
      foreign_commune: "sự kiện của xã khác: bạn chỉ ghi cho xã của mình", not_a_collaborator: "mã truy cập không phải của cộng tác viên",
    },
    en: {
      missing: "is required", string_type: "is required", too_short: "must not be empty", string_too_short: "must not be empty",
      too_long: "is too long (at most {max} characters)", string_too_long: "is too long (at most {max} characters)",
      string_pattern_mismatch: "may hold only letters without accents, digits and . _ : -",
      control_character: "holds a hidden or control character ({code})",
      enum: "choose a value from the list", int_type: "must be a number", int_parsing: "must be a whole number",
      int_from_float: "must be a whole number", greater_than_equal: "must be at least {ge}", less_than_equal: "must be at most {le}",
      date_format: "is not a date (year-month-day)", date_from_datetime_parsing: "is not a real date",
      date_parsing: "is not a real date", date_out_of_range: "must be between 1900 and 2299",
      future_date: "is after today ({today})", timestamp_format: "is not a timestamp",
      datetime_from_date_parsing: "is not a real time", timezone_required: "lacks a time zone",
      future_timestamp: "is in the future: check the phone's clock",
      recorded_before_occurred: "is after the time of recording: check the date and the phone's clock",
      commune_code_format: "must be 5 digits", unknown_commune: "no commune had code {code} on {day}",
      province_code_format: "must be 2 digits", national_id_format: "must be 12 digits",
      ethnicity_format: "must be 2 digits",
      national_id_mismatch: "does not match the year of birth or the sex",
      born_after_event: "is after the event", implausible_age: "gives an age over {max}: check the date of birth",
      date_mismatch: "must be the day of the event", same_person: "names the same person twice",
      spouse_not_married: "a spouse is given but the marital status is not 'Married'",
      married_newborn: "a newborn is 'Never married'",
      move_place_mismatch: "give a commune code exactly when the place is another commune",
      duplicate_person: "lists a person twice", unlisted_person: "has a person not listed",
      self_reference: "an event cannot correct itself", immutable_field: "{path} cannot be amended",
      invalid_json: "the corrected value of {path} is not valid", uuid_parsing: "is not a valid event id", uuid_type: "is not a valid event id",
      extra_forbidden: "is not a field of this form", model_type: "is missing", model_attributes_type: "is not an event",
      unknown_type: "no such event type", list_type: "must be a list", dict_type: "must be a list of corrections",
      event_id_conflict: "this event id was used for other content",
      reporter_mismatch: "the reporter is not you", not_permitted: "outside your commune",
      unknown_person: "this person is not in the registry", unknown_mother: "the mother is not in the registry",
      unknown_household: "this household is not in the registry", dead_person: "this person has died",
      duplicate_enumeration: "this person was enumerated before", already_married: "one of them is married",
      already_member: "this person is already in the household", mother_age: "the mother's age is implausible",
      mother_not_female: "the mother must be female", not_married: "these two are not married to each other",
      not_member: "this person does not live in the household", unknown_target: "the event to correct was not found",
      correction_of_correction: "a correction cannot be corrected", invalid_amendment: "the correction makes the event invalid",
      voided: "the event was voided", revoked: "the account was revoked",
      foreign_commune: "another commune's event: you record for your own commune only", not_a_collaborator: "not a collaborator's token",
    },
  };

  const VALUES = {
    vi: {
      MALE: "Nam", FEMALE: "Nữ", UNKNOWN: "Không rõ",
      NEVER_MARRIED: "Chưa kết hôn", MARRIED: "Có vợ/chồng", DIVORCED: "Ly hôn", WIDOWED: "Góa", SEPARATED: "Ly thân",
      HEAD: "Chủ hộ", SPOUSE: "Vợ/chồng", CHILD: "Con", PARENT: "Cha/mẹ", GRANDCHILD: "Cháu", SIBLING: "Anh/chị/em",
      OTHER_RELATIVE: "Họ hàng khác", NON_RELATIVE: "Không họ hàng",
      HOME: "Tại nhà", HEALTH_FACILITY: "Cơ sở y tế", OTHER: "Nơi khác",
      ANOTHER_COMMUNE: "Xã/phường khác", ABROAD: "Nước ngoài",
    },
    en: {
      MALE: "Male", FEMALE: "Female", UNKNOWN: "Unknown",
      NEVER_MARRIED: "Never married", MARRIED: "Married", DIVORCED: "Divorced", WIDOWED: "Widowed", SEPARATED: "Separated",
      HEAD: "Head", SPOUSE: "Spouse", CHILD: "Child", PARENT: "Parent", GRANDCHILD: "Grandchild", SIBLING: "Sibling",
      OTHER_RELATIVE: "Other relative", NON_RELATIVE: "Not related",
      HOME: "At home", HEALTH_FACILITY: "Health facility", OTHER: "Elsewhere",
      ANOTHER_COMMUNE: "Another commune", ABROAD: "Abroad",
    },
  };

  let lang = "vi";
  try { lang = root.localStorage && localStorage.getItem("popreg-app-lang") === "en" ? "en" : "vi"; } catch (e) { lang = "vi"; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, key) => (values && values[key] !== undefined ? String(values[key]) : m));
  }
  const I18n = {
    get lang() { return lang; },
    setLang(value) {
      lang = value === "en" ? "en" : "vi";
      try { localStorage.setItem("popreg-app-lang", lang); } catch (e) { /* private mode */ }
    },
    t: (key) => WORDS[lang][key] || WORDS.vi[key] || key,
    type: (name) => TYPES[lang][name] || name,
    value: (v) => VALUES[lang][v] || v,
    field(path) {
      const plain = path.split(".").filter((p) => !/^\d+$/.test(p)).join(".");
      return FIELDS[lang][plain] || FIELDS[lang][plain.split(".").pop()] || plain;
    },
    // "Ngày sinh: ngày này sau hôm nay (2026-12-07)"
    rule(rule, values) {
      const template = RULES[lang][rule];
      return template ? fill(template, values) : rule;
    },
    hasRule: (rule) => rule in RULES.vi,
  };
  root.I18n = I18n;
})(typeof self !== "undefined" ? self : this);
