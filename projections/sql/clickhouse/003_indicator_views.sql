-- The indicators as parameterized views, for analysts with any ClickHouse client:
--
--   SELECT * FROM popreg.indicator_values(level = 'province', code = '96', units = 'as_was',
--                                         start = '2025-01-01', end = '2025-12-31')
--   SELECT * FROM popreg.population_pyramid(level = 'nation', code = '', units = 'current',
--                                           on_date = '2025-07-01')
--   SELECT * FROM popreg.rejections_by_reason(level = 'commune', code = '32014', units = 'as_was',
--                                             start = '2025-01-01', end = '2025-03-31')
--
-- level: 'commune' | 'province' | 'nation' (code is ignored for the nation, which is
-- everything, rows of unknown communes included). units: 'as_was' | 'current', how
-- communes are placed across the 2025-07-01 reform (002_units.sql). A period runs from
-- the first day of a month to the last day of a month, both included.
--
-- Every figure is a sum of `sign` or `delta`: a correction writes negative rows.
-- A zero denominator gives NaN. projections/indicator_reference.py computes the same
-- figures in Python; projections/indicator_catalog.py lists them with their units.

-- One row per indicator, in a fixed order: (indicator, value, unit).
--   P (population_mid): the population on 1 July of a calendar year, otherwise the mean
--     of the population on the day before the period and on its last day. Every other
--     "mid-period" stock (women 15-49, age groups, households, never-married shares) is
--     taken the same way. Ages are completed years on the stock's date.
--   Rates per population, GFR and ASFR are annualised: x 12 / (months in the period).
--   Migration counts persons moved; a move from or to a commune inside the same unit is
--     not migration for it (so the nation counts only moves abroad or from/to unknown).
--   Programme indicators: communes online = the unit's communes in force on the last
--     day with an event recorded through MOBILE or WEB in the 30 days to it (recorded
--     date in Vietnam); mobile share and timeliness = the six vital event types
--     recorded in the period. The median delay is the lower median: the smallest delay
--     d such that at least half of the (net) events have a delay <= d.
CREATE OR REPLACE VIEW popreg.indicator_values AS
WITH
    {level:String} AS p_level,
    {code:String} AS p_code,
    {units:String} AS p_units,
    {start:Date32} AS p_start,
    {end:Date32} AS p_end,
    toDate32('2025-07-01') AS reform,
    ['BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
     'DivorceRegistered', 'MovedIn', 'MovedOut'] AS vital_types,
    [15, 20, 25, 30, 35, 40, 45] AS fertile_groups,
    [15, 20, 25, 30, 35, 40, 45, 50] AS smam_groups,
    -- whole months in the period, and what turns a count over it into a count a year
    (toYear(p_end + 1) * 12 + toMonth(p_end + 1)) - (toYear(p_start) * 12 + toMonth(p_start))
        AS months,
    12 / months AS annualise,
    months = 12 AND toMonth(p_start) = 1 AS calendar_year,
    if(calendar_year, [makeDate32(toYear(p_start), 7, 1)], [p_start - 1, p_end]) AS mid_dates,
    length(mid_dates) AS mids,
    arrayDistinct(arrayConcat(mid_dates, [p_end])) AS stock_dates,

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            + throwIf(toDayOfMonth(p_start) != 1 OR toDayOfMonth(p_end + 1) != 1 OR months < 1,
                      'a period runs from the first day of a month to the last day of a month')
            AS failed
    ),

    -- the (code, reading) pairs that land in the unit (002_units.sql)
    unit_keys AS (
        SELECT code, reading
        FROM popreg.commune_places
        WHERE (p_level = 'province' AND province = p_code)
           OR (p_level = 'commune' AND commune = p_code)
    ),

    -- residents of the unit on each stock date, by sex, age and marital status
    people AS (
        SELECT
            ref,
            has(mid_dates, ref) AS is_mid,
            sex,
            age,
            marital_status,
            sum(delta) AS persons
        FROM
        (
            SELECT
                ref,
                sex,
                marital_status,
                delta,
                commune_code,
                toYear(ref) - toYear(birth_date)
                    - (toMonth(ref) * 100 + toDayOfMonth(ref)
                       < toMonth(birth_date) * 100 + toDayOfMonth(birth_date)) AS age,
                multiIf(on_date >= reform, 'after',
                        p_units = 'current' OR ref >= reform, 'before_mapped',
                        'before') AS reading
            FROM popreg.population_deltas
            ARRAY JOIN stock_dates AS ref
            WHERE on_date <= ref
        )
        WHERE p_level = 'nation' OR (commune_code, reading) IN unit_keys
        GROUP BY ref, sex, age, marital_status
    ),

    stocks AS (
        SELECT
            sumIf(persons, ref = p_end) AS population_end,
            sumIf(persons, ref = p_end AND sex = 'MALE') AS population_end_male,
            sumIf(persons, ref = p_end AND sex = 'FEMALE') AS population_end_female,
            sumIf(persons, is_mid) / mids AS population_mid,
            sumIf(persons, is_mid AND sex = 'FEMALE' AND age BETWEEN 15 AND 49) / mids AS women_15_49,
            arrayMap(w -> w / mids, arrayResize(sumForEachIf(
                arrayMap(g -> persons * (age >= g AND age < g + 5), fertile_groups),
                is_mid AND sex = 'FEMALE'), length(fertile_groups))) AS women_by_group,
            sumIf(persons, is_mid AND age < 15) / mids AS aged_0_14,
            sumIf(persons, is_mid AND age BETWEEN 15 AND 64) / mids AS aged_15_64,
            sumIf(persons, is_mid AND age >= 65) / mids AS aged_65_up,
            -- never married, and of known marital status, by SMAM group (summed over the
            -- mid dates: their ratio is the mid-period share)
            arrayResize(sumForEachIf(
                arrayMap(g -> persons * (age >= g AND age < g + 5), smam_groups),
                is_mid AND sex = 'FEMALE' AND marital_status = 'NEVER_MARRIED'),
                length(smam_groups)) AS single_women,
            arrayResize(sumForEachIf(
                arrayMap(g -> persons * (age >= g AND age < g + 5), smam_groups),
                is_mid AND sex = 'FEMALE' AND marital_status != 'UNKNOWN'),
                length(smam_groups)) AS known_women,
            arrayResize(sumForEachIf(
                arrayMap(g -> persons * (age >= g AND age < g + 5), smam_groups),
                is_mid AND sex = 'MALE' AND marital_status = 'NEVER_MARRIED'),
                length(smam_groups)) AS single_men,
            arrayResize(sumForEachIf(
                arrayMap(g -> persons * (age >= g AND age < g + 5), smam_groups),
                is_mid AND sex = 'MALE' AND marital_status != 'UNKNOWN'),
                length(smam_groups)) AS known_men
        FROM people
    ),

    households AS (
        SELECT sumIf(delta, has(mid_dates, ref)) / mids AS households_mid
        FROM
        (
            SELECT
                ref,
                delta,
                commune_code,
                multiIf(on_date >= reform, 'after',
                        p_units = 'current' OR ref >= reform, 'before_mapped',
                        'before') AS reading
            FROM popreg.household_deltas
            ARRAY JOIN mid_dates AS ref
            WHERE on_date <= ref
        )
        WHERE p_level = 'nation' OR (commune_code, reading) IN unit_keys
    ),

    -- the unit's events that occurred or were recorded in the period, each placed by
    -- the commune its code named on the day it occurred
    events AS (
        SELECT
            event_type,
            sex,
            age,
            ifNull(mother_age, -1) AS mothers_age,
            persons,
            channel,
            delay_days,
            sign,
            occurred_on BETWEEN p_start AND p_end AS occurred,
            recorded_on BETWEEN p_start AND p_end AS recorded,
            event_type IN vital_types AS vital,
            other_commune = ''
                OR (p_level != 'nation' AND (other_commune, reading) NOT IN unit_keys) AS crosses
        FROM
        (
            SELECT
                *,
                toDate32(toTimeZone(recorded_at, 'Asia/Ho_Chi_Minh')) AS recorded_on,
                multiIf(occurred_on >= reform, 'after',
                        p_units = 'current', 'before_mapped',
                        'before') AS reading
            FROM popreg.vital_events
        )
        WHERE (occurred_on BETWEEN p_start AND p_end OR recorded_on BETWEEN p_start AND p_end)
          AND (p_level = 'nation' OR (commune_code, reading) IN unit_keys)
    ),

    flows AS (
        SELECT
            sumIf(sign, occurred AND event_type = 'BirthRegistered') AS births,
            sumIf(sign, occurred AND event_type = 'BirthRegistered' AND sex = 'MALE') AS births_male,
            sumIf(sign, occurred AND event_type = 'BirthRegistered' AND sex = 'FEMALE')
                AS births_female,
            arrayResize(sumForEachIf(
                arrayMap(g -> sign * (mothers_age >= g AND mothers_age < g + 5), fertile_groups),
                occurred AND event_type = 'BirthRegistered'),
                length(fertile_groups)) AS births_by_group,
            sumIf(sign, occurred AND event_type = 'DeathRegistered') AS deaths,
            sumIf(sign, occurred AND event_type = 'DeathRegistered' AND age < 1) AS infant_deaths,
            sumIf(sign, occurred AND event_type = 'DeathRegistered' AND age < 5) AS under5_deaths,
            sumIf(sign, occurred AND event_type = 'MarriageRegistered') AS marriages,
            sumIf(sign, occurred AND event_type = 'DivorceRegistered') AS divorces,
            sumIf(persons * sign, occurred AND event_type = 'MovedIn' AND crosses) AS in_migrants,
            sumIf(persons * sign, occurred AND event_type = 'MovedOut' AND crosses) AS out_migrants,
            sumIf(sign, recorded AND vital) AS recorded_vital,
            sumIf(sign, recorded AND vital AND channel = 'MOBILE') AS recorded_mobile
        FROM events
    ),

    -- registration delays of the vital events recorded in the period: (delay, net count)
    timeliness AS (
        SELECT
            arraySort(groupArray((delay_days, registered))) AS delays,
            arraySum(arrayMap(d -> d.2, delays)) AS registered_total,
            arrayCumSum(arrayMap(d -> d.2, delays)) AS running,
            if(registered_total = 0, nan, toFloat64(
                delays[arrayFirstIndex(c -> c >= intDiv(registered_total + 1, 2), running)].1))
                AS median_delay,
            if(registered_total = 0, nan,
               arraySum(arrayMap(d -> if(d.1 <= 30, d.2, 0), delays)) / registered_total * 100)
                AS within_30_days
        FROM
        (
            SELECT delay_days, sum(sign) AS registered
            FROM events
            WHERE recorded AND vital
            GROUP BY delay_days
            HAVING registered > 0
        )
    ),

    -- the unit's communes in force on the period's last day (today's, for current units)
    communes_in_force AS (
        SELECT commune_code
        FROM popreg.communes
        WHERE regime = if(p_units = 'current' OR p_end >= reform, 'after', 'before')
          AND (p_level = 'nation'
               OR (p_level = 'province' AND province_code = p_code)
               OR (p_level = 'commune' AND commune_code = p_code))
    ),

    -- those with an event recorded online in the 30 days to the last day, each event
    -- placed in the units in force on that day
    online AS (
        SELECT
            (SELECT count() FROM communes_in_force) AS communes,
            (
                SELECT count()
                FROM
                (
                    SELECT p.commune
                    FROM
                    (
                        SELECT
                            commune_code,
                            sign,
                            multiIf(occurred_on >= reform, 'after',
                                    p_units = 'current' OR p_end >= reform, 'before_mapped',
                                    'before') AS reading
                        FROM popreg.vital_events
                        WHERE channel IN ('MOBILE', 'WEB')
                          AND toDate32(toTimeZone(recorded_at, 'Asia/Ho_Chi_Minh'))
                              BETWEEN p_end - 29 AND p_end
                    ) AS e
                    INNER JOIN popreg.commune_places AS p
                        ON p.code = e.commune_code AND p.reading = e.reading
                    WHERE p.commune IN communes_in_force
                    GROUP BY p.commune
                    HAVING sum(e.sign) > 0
                )
            ) AS communes_online
    ),

    figures AS (
        SELECT
            *,
            -- per 1000 population a year
            if(population_mid = 0, nan, 1000 * annualise / population_mid) AS per_mille,
            arrayMap((b, w) -> if(w = 0, nan, b / w * 1000 * annualise),
                     births_by_group, women_by_group) AS asfr,
            arrayMap((s, k) -> if(k = 0, nan, s / k), single_women, known_women) AS single_w,
            arrayMap((s, k) -> if(k = 0, nan, s / k), single_men, known_men) AS single_m,
            -- Hajnal: SMAM = (15 + 5 x sum of never-married shares 15-19 … 45-49
            --                 - 50 x S50) / (1 - S50), S50 = mean share of 45-49 and 50-54
            (single_w[7] + single_w[8]) / 2 AS s50_w,
            (single_m[7] + single_m[8]) / 2 AS s50_m,
            if(s50_w = 1, nan,
               (15 + 5 * arraySum(arraySlice(single_w, 1, 7)) - 50 * s50_w) / (1 - s50_w))
                AS smam_female,
            if(s50_m = 1, nan,
               (15 + 5 * arraySum(arraySlice(single_m, 1, 7)) - 50 * s50_m) / (1 - s50_m))
                AS smam_male
        FROM checks, stocks, households, flows, timeliness, online
    )

SELECT indicator, value, unit
FROM
(
    SELECT
        [
            ('population_end', toFloat64(population_end), 'persons'),
            ('population_end_male', toFloat64(population_end_male), 'persons'),
            ('population_end_female', toFloat64(population_end_female), 'persons'),
            ('population_mid', toFloat64(population_mid), 'persons'),
            ('births', toFloat64(births), 'events'),
            ('deaths', toFloat64(deaths), 'events'),
            ('marriages', toFloat64(marriages), 'events'),
            ('divorces', toFloat64(divorces), 'events'),
            ('in_migrants', toFloat64(in_migrants), 'persons'),
            ('out_migrants', toFloat64(out_migrants), 'persons'),
            ('crude_birth_rate', births * per_mille, 'per 1000 population a year'),
            ('crude_death_rate', deaths * per_mille, 'per 1000 population a year'),
            ('natural_increase_rate', (births - deaths) * per_mille, 'per 1000 population a year'),
            ('general_fertility_rate',
                if(women_15_49 = 0, nan, births / women_15_49 * 1000 * annualise),
                'per 1000 women 15-49 a year'),
            ('asfr_15_19', asfr[1], 'per 1000 women 15-19 a year'),
            ('asfr_20_24', asfr[2], 'per 1000 women 20-24 a year'),
            ('asfr_25_29', asfr[3], 'per 1000 women 25-29 a year'),
            ('asfr_30_34', asfr[4], 'per 1000 women 30-34 a year'),
            ('asfr_35_39', asfr[5], 'per 1000 women 35-39 a year'),
            ('asfr_40_44', asfr[6], 'per 1000 women 40-44 a year'),
            ('asfr_45_49', asfr[7], 'per 1000 women 45-49 a year'),
            ('total_fertility_rate', 5 * arraySum(asfr) / 1000, 'children per woman'),
            ('sex_ratio_at_birth',
                if(births_female = 0, nan, births_male / births_female * 100),
                'male per 100 female births'),
            ('infant_mortality_rate',
                if(births = 0, nan, infant_deaths / births * 1000), 'per 1000 live births'),
            ('under5_mortality_rate',
                if(births = 0, nan, under5_deaths / births * 1000), 'per 1000 live births'),
            ('crude_marriage_rate', marriages * per_mille, 'per 1000 population a year'),
            ('crude_divorce_rate', divorces * per_mille, 'per 1000 population a year'),
            ('in_migration_rate', in_migrants * per_mille, 'per 1000 population a year'),
            ('out_migration_rate', out_migrants * per_mille, 'per 1000 population a year'),
            ('net_migration_rate', (in_migrants - out_migrants) * per_mille,
                'per 1000 population a year'),
            ('dependency_ratio',
                if(aged_15_64 = 0, nan, (aged_0_14 + aged_65_up) / aged_15_64 * 100),
                'per 100 aged 15-64'),
            ('young_dependency_ratio',
                if(aged_15_64 = 0, nan, aged_0_14 / aged_15_64 * 100), 'per 100 aged 15-64'),
            ('old_dependency_ratio',
                if(aged_15_64 = 0, nan, aged_65_up / aged_15_64 * 100), 'per 100 aged 15-64'),
            ('ageing_index',
                if(aged_0_14 = 0, nan, aged_65_up / aged_0_14 * 100), 'aged 65+ per 100 aged 0-14'),
            ('average_household_size',
                if(households_mid = 0, nan, population_mid / households_mid),
                'persons per household'),
            ('smam_female', smam_female, 'years'),
            ('smam_male', smam_male, 'years'),
            ('communes_online_share',
                if(communes = 0, nan, communes_online / communes * 100), 'percent'),
            ('mobile_share',
                if(recorded_vital = 0, nan, recorded_mobile / recorded_vital * 100), 'percent'),
            ('median_registration_delay', median_delay, 'days'),
            ('registered_within_30_days_share', within_30_days, 'percent')
        ] AS answer
    FROM figures
)
ARRAY JOIN answer.1 AS indicator, answer.2 AS value, answer.3 AS unit;

-- The unit's residents on one date by five-year age group (0-4 … 95-99, 100+) and sex,
-- every group present: (age_group, age_from, male, female, unknown). Ages are
-- completed years on on_date; as_was places them in the units in force on on_date.
CREATE OR REPLACE VIEW popreg.population_pyramid AS
WITH
    {level:String} AS p_level,
    {code:String} AS p_code,
    {units:String} AS p_units,
    {on_date:Date32} AS p_on,
    toDate32('2025-07-01') AS reform,

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            AS failed
    ),

    unit_keys AS (
        SELECT code, reading
        FROM popreg.commune_places
        WHERE (p_level = 'province' AND province = p_code)
           OR (p_level = 'commune' AND commune = p_code)
    ),

    residents AS (
        SELECT
            least(intDiv(age, 5) * 5, 100) AS age_from,
            sumIf(delta, sex = 'MALE') AS male,
            sumIf(delta, sex = 'FEMALE') AS female,
            sumIf(delta, sex NOT IN ('MALE', 'FEMALE')) AS unknown
        FROM
        (
            SELECT
                sex,
                delta,
                commune_code,
                toYear(p_on) - toYear(birth_date)
                    - (toMonth(p_on) * 100 + toDayOfMonth(p_on)
                       < toMonth(birth_date) * 100 + toDayOfMonth(birth_date)) AS age,
                multiIf(on_date >= reform, 'after',
                        p_units = 'current' OR p_on >= reform, 'before_mapped',
                        'before') AS reading
            FROM popreg.population_deltas
            WHERE on_date <= p_on
        )
        WHERE p_level = 'nation' OR (commune_code, reading) IN unit_keys
        GROUP BY age_from
    )

SELECT
    if(g.age_from = 100, '100+', concat(toString(g.age_from), '-', toString(g.age_from + 4)))
        AS age_group,
    g.age_from AS age_from,
    r.male AS male,
    r.female AS female,
    r.unknown AS unknown
FROM (SELECT arrayJoin(range(0, 105, 5)) AS age_from) AS g
CROSS JOIN checks
LEFT JOIN residents AS r ON r.age_from = g.age_from
ORDER BY g.age_from;

-- Rejected events by the commune they name and reason, recorded in the period (recorded
-- date in Vietnam): (commune_code, reason, rejected, submitted, rate), where submitted =
-- events accepted and rejected there in the period and rate = rejected / submitted in
-- percent. A commune is placed as in indicator_values; a code that names no commune
-- is shown as reported (nation level). Undecodable messages have no date and no
-- commune: `popreg rejections` lists them.
CREATE OR REPLACE VIEW popreg.rejections_by_reason AS
WITH
    {level:String} AS p_level,
    {code:String} AS p_code,
    {units:String} AS p_units,
    {start:Date32} AS p_start,
    {end:Date32} AS p_end,
    toDate32('2025-07-01') AS reform,

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            AS failed
    ),

    unit_keys AS (
        SELECT code, reading
        FROM popreg.commune_places
        WHERE (p_level = 'province' AND province = p_code)
           OR (p_level = 'commune' AND commune = p_code)
    ),

    -- accepted and rejected events recorded in the period, placed like indicator_values
    submissions AS (
        SELECT if(p.commune = '', s.commune_code, p.commune) AS place, s.reason AS reason, s.sign AS sign
        FROM
        (
            SELECT
                commune_code,
                reason,
                sign,
                multiIf(day >= reform, 'after', p_units = 'current', 'before_mapped', 'before')
                    AS reading
            FROM
            (
                SELECT commune_code, reason, sign, assumeNotNull(occurred_on) AS day,
                       toDate32(toTimeZone(assumeNotNull(recorded_at), 'Asia/Ho_Chi_Minh')) AS recorded_on
                FROM popreg.rejections
                WHERE recorded_at IS NOT NULL AND occurred_on IS NOT NULL
                UNION ALL
                SELECT commune_code, '' AS reason, sign, occurred_on AS day,
                       toDate32(toTimeZone(recorded_at, 'Asia/Ho_Chi_Minh')) AS recorded_on
                FROM popreg.vital_events
            )
            WHERE recorded_on BETWEEN p_start AND p_end
        ) AS s
        LEFT JOIN popreg.commune_places AS p ON p.code = s.commune_code AND p.reading = s.reading
        WHERE p_level = 'nation' OR (s.commune_code, s.reading) IN unit_keys
    ),

    by_commune AS (
        SELECT place, sum(sign) AS submitted FROM submissions GROUP BY place
    )

SELECT
    r.place AS commune_code,
    r.reason AS reason,
    r.rejected AS rejected,
    c.submitted AS submitted,
    if(c.submitted = 0, nan, r.rejected / c.submitted * 100) AS rate
FROM
(
    SELECT place, reason, sum(sign) AS rejected
    FROM submissions
    WHERE reason != ''
    GROUP BY place, reason
    HAVING rejected != 0
) AS r
CROSS JOIN checks
LEFT JOIN by_commune AS c ON c.place = r.place
ORDER BY commune_code, reason;
