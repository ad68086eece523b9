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
-- A zero denominator gives NaN. projections/domain/indicator_reference.py computes the same
-- figures in Python; projections/domain/indicator_catalog.py lists them with their units.

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
--
-- How it stays fast (a province of ~1.3 M people: a few million rows per table): each
-- row table is read once, only the unit's rows (every primary key holds the commune
-- code), and a row is placed by testing its code against small sets of the unit's codes
-- (popreg.unit_code_sets, 002_units.sql), never by a join. The sets are arrays from one
-- scalar subquery, run once while the query is analysed: five `IN (subquery)` sets would
-- each cost a subquery plan and a set built at run time (a province-year 11 ms longer,
-- a commune-year 18 ms, in-process). Both stock dates are summed side by side in one
-- pass over the deltas, grouped by the two age groups and sex, and the deltas are read
-- pre-summed (popreg.population_stock_deltas: at province scale 1.6 M rows for 2.7 M,
-- the residents part ~30% faster in-process). The query is kept small as well: its
-- analysis, which ClickHouse does twice per call of a parameterized view, costs about
-- as much as reading the rows. `bench/indicator_queries.py` times the views on a
-- Cà Mau-sized warehouse (`--views-from` times another version of this file on the
-- same rows).
CREATE OR REPLACE VIEW popreg.indicator_values AS
WITH
    {level:String} AS p_level,
    {code:String} AS p_code,
    {units:String} AS p_units,
    {start:Date32} AS p_start,
    {end:Date32} AS p_end,
    toDate32('2025-07-01') AS reform,
    [15, 20, 25, 30, 35, 40, 45] AS fertile_groups,
    -- whole months in the period, and what turns a count over it into a count a year
    dateDiff('month', p_start, p_end + 1) AS months,
    12 / months AS annualise,
    -- stocks are taken on two dates: 1 July of a calendar year, otherwise the day before
    -- the period; and the last day. The mid-period stock is the first, or the mean of both.
    months = 12 AND toMonth(p_start) = 1 AS calendar_year,
    if(calendar_year, makeDate32(toYear(p_start), 7, 1), p_start - 1) AS first_day,
    2 - calendar_year AS mids,
    -- a recorded date is the date in Vietnam: recorded in the period = in [from, to)
    toDateTime64(p_start, 3, 'Asia/Ho_Chi_Minh') AS recorded_from,
    toDateTime64(p_end + 1, 3, 'Asia/Ho_Chi_Minh') AS recorded_to,
    p_level = 'nation' AS everywhere,
    -- completed years on `day` of someone born on `birth`, as a five-year age group:
    -- 0 = 0-4 (or younger) … 20 = 100 and over. YYYYMMDD(day) - YYYYMMDD(birth) is
    -- 10000 x the difference of the years plus that of MMDD (under 10000 either way), so
    -- it reaches 10000 x n once n full years have passed: one date conversion a row.
    (birth, day) -> toUInt8(least(greatest(
        intDiv(toInt32(toYYYYMMDD(day)) - toInt32(toYYYYMMDD(birth)), 50000), 0), 20)) AS age_group_on,

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            + throwIf(toDayOfMonth(p_start) != 1 OR toDayOfMonth(p_end + 1) != 1 OR months < 1,
                      'a period runs from the first day of a month to the last day of a month')
            AS failed
    ),

    -- Where rows land (002_units.sql): the codes whose rows land in the unit (none for
    -- the nation, which takes every row, of unknown communes too), in any reading (to
    -- read only the unit's rows) and by reading: 'after' for a row dated from the reform
    -- on; for an earlier row, 'before_mapped' (carried onto its successor) in today's
    -- units or for a figure about a date from the reform on, otherwise 'before'.
    -- code_sets holds them as arrays: (any, 'after', 'before', 'before_mapped').
    (SELECT (any_reading, after, before, before_mapped) FROM popreg.unit_code_sets
     WHERE level = p_level AND unit = p_code) AS code_sets,
    code_sets.1 AS unit_codes,
    code_sets.2 AS after_codes,
    if(p_units = 'current' OR first_day >= reform, code_sets.4, code_sets.3) AS first_day_codes,
    if(p_units = 'current' OR p_end >= reform, code_sets.4, code_sets.3) AS last_day_codes,
    if(p_units = 'current', code_sets.4, code_sets.3) AS event_codes,

    -- Residents of the unit on the two stock dates by five-year age group (completed
    -- years on each date: 0 = 0-4 or younger … 20 = 100 and over) and sex, in one pass
    -- over the unit's deltas: a delta counts on a date if it is dated by then and lands
    -- in the unit as read for that date. Never married, and of known marital status, are
    -- counted apart. Grouping by the two age groups, not by birth date, keeps the hash
    -- table a few hundred entries (tens of thousands of birth dates cost ~30% more).
    -- The deltas are read summed, with coarsened dates that give the same answers on
    -- the stock dates (popreg.population_stock_deltas, 001_indicator_tables.sql).
    residents AS (
        SELECT
            age_group_on(birth_key, first_day) AS first_group,
            age_group_on(birth_key, p_end) AS last_group,
            multiIf(sex = 'MALE', 1, sex = 'FEMALE', 2, 0) AS sex_code,
            sumIf(delta, on_first) AS first_all,
            sumIf(delta, on_first AND single) AS first_single,
            sumIf(delta, on_first AND known) AS first_known,
            sumIf(delta, on_last) AS last_all,
            sumIf(delta, on_last AND single) AS last_single,
            sumIf(delta, on_last AND known) AS last_known
        FROM
        (
            SELECT
                birth_key,
                sex,
                delta,
                marital_status = 'NEVER_MARRIED' AS single,
                marital_status != 'UNKNOWN' AS known,
                on_key <= first_day AND (everywhere OR if(on_key >= reform,
                    commune_code IN after_codes, commune_code IN first_day_codes)) AS on_first,
                everywhere OR if(on_key >= reform,
                    commune_code IN after_codes, commune_code IN last_day_codes) AS on_last
            FROM popreg.population_stock_deltas
            WHERE on_key <= p_end AND (everywhere OR commune_code IN unit_codes)
        )
        GROUP BY first_group, last_group, sex_code
    ),

    -- the same on each stock date by age group: summed over the mid-period dates
    -- (`mid_*`), and on the last day (`end_*`)
    people AS (
        SELECT
            age_group,
            sum(mid * everyone) AS mid_persons,
            sum(mid * everyone * (sex_code = 2)) AS mid_women,
            sum(mid * single * (sex_code = 2)) AS mid_single_women,
            sum(mid * known * (sex_code = 2)) AS mid_known_women,
            sum(mid * single * (sex_code = 1)) AS mid_single_men,
            sum(mid * known * (sex_code = 1)) AS mid_known_men,
            sum(last * everyone) AS end_persons,
            sum(last * everyone * (sex_code = 1)) AS end_men,
            sum(last * everyone * (sex_code = 2)) AS end_women
        FROM residents
        ARRAY JOIN
            [first_group, last_group] AS age_group,
            [1, mids - 1] AS mid,
            [0, 1] AS last,
            [first_all, last_all] AS everyone,
            [first_single, last_single] AS single,
            [first_known, last_known] AS known
        GROUP BY age_group
    ),

    -- the stocks; mid-period ones from arrays by five-year group ([1] = 0-4, [4] = 15-19,
    -- [14] = 65-69)
    stocks AS (
        SELECT
            *,
            arraySum(persons) / mids AS population_mid,
            arraySum(arraySlice(women, 4, 7)) / mids AS women_15_49,
            arrayMap(w -> w / mids, arraySlice(women, 4, 7)) AS women_by_group,
            arraySum(arraySlice(persons, 1, 3)) / mids AS aged_0_14,
            arraySum(arraySlice(persons, 4, 10)) / mids AS aged_15_64,
            arraySum(arraySlice(persons, 14)) / mids AS aged_65_up,
            -- never married, and of known marital status, 15-19 … 50-54 (summed over the
            -- mid dates: their ratio is the mid-period share)
            arraySlice(single_women_by_group, 4, 8) AS single_women,
            arraySlice(known_women_by_group, 4, 8) AS known_women,
            arraySlice(single_men_by_group, 4, 8) AS single_men,
            arraySlice(known_men_by_group, 4, 8) AS known_men
        FROM
        (
            SELECT
                sum(end_persons) AS population_end,
                sum(end_men) AS population_end_male,
                sum(end_women) AS population_end_female,
                groupArrayInsertAt(0, 21)(mid_persons, age_group) AS persons,
                groupArrayInsertAt(0, 21)(mid_women, age_group) AS women,
                groupArrayInsertAt(0, 21)(mid_single_women, age_group) AS single_women_by_group,
                groupArrayInsertAt(0, 21)(mid_known_women, age_group) AS known_women_by_group,
                groupArrayInsertAt(0, 21)(mid_single_men, age_group) AS single_men_by_group,
                groupArrayInsertAt(0, 21)(mid_known_men, age_group) AS known_men_by_group
            FROM people
        )
    ),

    -- households of the unit on the mid-period dates, counted like the residents
    households AS (
        SELECT (sumIf(delta, on_date <= first_day AND (everywhere OR if(on_date >= reform,
                    commune_code IN after_codes, commune_code IN first_day_codes)))
                + (mids - 1) * sumIf(delta, everywhere OR if(on_date >= reform,
                    commune_code IN after_codes, commune_code IN last_day_codes))) / mids
            AS households_mid
        FROM popreg.household_deltas
        WHERE on_date <= p_end AND (everywhere OR commune_code IN unit_codes)
    ),

    -- The unit's vital events that occurred or were recorded in the period, each placed
    -- by the commune its code named on the day it occurred (other event types enter no
    -- figure but communes online), and the registration delays of those recorded in the
    -- period with a positive net count, in order: (delay, net count).
    flows AS (
        SELECT
            *,
            arrayFilter(d -> d.2 > 0, arrayZip(by_delay.1, by_delay.2)) AS delays,
            arraySum(arrayMap(d -> d.2, delays)) AS registered_total,
            if(registered_total = 0, nan, toFloat64(delays[arrayFirstIndex(
                c -> c >= intDiv(registered_total + 1, 2), arrayCumSum(arrayMap(d -> d.2, delays)))].1))
                AS median_delay,
            if(registered_total = 0, nan,
               arraySum(arrayMap(d -> if(d.1 <= 30, d.2, 0), delays)) / registered_total * 100)
                AS within_30_days
        FROM
        (
            SELECT
                sumIf(sign, occurred AND birth) AS births,
                sumIf(sign, occurred AND birth AND male) AS births_male,
                sumIf(sign, occurred AND birth AND female) AS births_female,
                arrayResize(sumForEachIf(arrayMap(
                    g -> sign * (intDiv(ifNull(mother_age, -1), 5) * 5 = g), fertile_groups),
                    occurred AND birth), 7) AS births_by_group,
                sumIf(sign, occurred AND death) AS deaths,
                sumIf(sign, occurred AND death AND infant) AS infant_deaths,
                sumIf(sign, occurred AND death AND under5) AS under5_deaths,
                sumIf(sign, occurred AND marriage) AS marriages,
                sumIf(sign, occurred AND divorce) AS divorces,
                sumIf(persons * sign, occurred AND moved_in AND crosses) AS in_migrants,
                sumIf(persons * sign, occurred AND moved_out AND crosses) AS out_migrants,
                sumIf(sign, recorded) AS recorded_vital,
                sumIf(sign, recorded AND mobile) AS recorded_mobile,
                -- net events recorded in the period by registration delay (sorted)
                sumMapIf([delay_days], [toInt64(sign)], recorded) AS by_delay
            FROM
            (
                SELECT
                    sign,
                    persons,
                    delay_days,
                    mother_age,
                    event_type = 'BirthRegistered' AS birth,
                    event_type = 'DeathRegistered' AS death,
                    event_type = 'MarriageRegistered' AS marriage,
                    event_type = 'DivorceRegistered' AS divorce,
                    event_type = 'MovedIn' AS moved_in,
                    event_type = 'MovedOut' AS moved_out,
                    sex = 'MALE' AS male,
                    sex = 'FEMALE' AS female,
                    age < 1 AS infant,
                    age < 5 AS under5,
                    channel = 'MOBILE' AS mobile,
                    occurred_on BETWEEN p_start AND p_end AS occurred,
                    recorded_at >= recorded_from AND recorded_at < recorded_to AS recorded,
                    -- a move from or to a place outside the unit
                    other_commune = '' OR NOT (everywhere OR if(occurred_on >= reform,
                        other_commune IN after_codes, other_commune IN event_codes)) AS crosses
                FROM popreg.vital_events
                WHERE event_type IN ('BirthRegistered', 'DeathRegistered', 'MarriageRegistered',
                                     'DivorceRegistered', 'MovedIn', 'MovedOut')
                  AND (everywhere OR commune_code IN unit_codes)
                  AND (occurred OR recorded)
                  AND (everywhere OR if(occurred_on >= reform,
                           commune_code IN after_codes, commune_code IN event_codes))
            )
        )
    ),

    -- Communes online: the unit's communes in force on the last day (today's, for
    -- current units), and those among them where the net events recorded online in the
    -- 30 days to it are positive, each event placed in the units in force on that day.
    -- Only the unit's codes are read: an event is never recorded before it occurred
    -- (schemas/models.py), so one read 'after' is recorded after the reform and lands in
    -- a commune in force only if it lands in the unit.
    communes_in_force AS (
        SELECT commune_code
        FROM popreg.communes
        WHERE regime = if(p_units = 'current' OR p_end >= reform, 'after', 'before')
          AND (everywhere OR p_code = if(p_level = 'province', province_code, commune_code))
    ),
    online AS (
        SELECT (SELECT count() FROM communes_in_force) AS communes,
               countIf(recorded > 0) AS communes_online
        FROM
        (
            SELECT sum(e.recorded) AS recorded
            FROM
            (
                SELECT
                    commune_code,
                    if(occurred_on >= reform, 'after',
                       if(p_units = 'current' OR p_end >= reform, 'before_mapped', 'before'))
                        AS reading,
                    sum(sign) AS recorded
                FROM popreg.vital_events
                WHERE channel IN ('MOBILE', 'WEB')
                  AND recorded_at >= toDateTime64(p_end - 29, 3, 'Asia/Ho_Chi_Minh')
                  AND recorded_at < recorded_to
                  AND (everywhere OR commune_code IN unit_codes)
                GROUP BY commune_code, reading
            ) AS e
            INNER JOIN popreg.unit_places AS p ON p.code = e.commune_code AND p.reading = e.reading
            WHERE p.level = 'commune' AND p.unit IN communes_in_force
            GROUP BY p.unit
        )
    ),

    -- Collaborators: the accounts of the unit's communes (today's codes: accounts exist
    -- from the reform on) enrolled and not revoked on the last day, and those among them
    -- who recorded an event from a phone in the 30 days to it (a refused or voided one
    -- too: it was recorded)
    team AS (
        SELECT count() AS collaborators,
               countIf(collaborator_key IN (
                   SELECT reporter_key FROM popreg.recordings
                   WHERE channel = 'MOBILE'
                     AND recorded_at >= toDateTime64(p_end - 29, 3, 'Asia/Ho_Chi_Minh')
                     AND recorded_at < recorded_to)) AS collaborators_mobile
        FROM popreg.collaborators
        WHERE enrolled_on <= p_end AND (revoked_on IS NULL OR revoked_on > p_end)
          AND (everywhere OR commune_code IN after_codes)
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
        FROM checks, stocks, households, flows, online, team
    )

-- (indicator, unit) and the value, side by side in the catalogue's order (a constant
-- array of names costs the analysis nothing; 41 tuples of expressions would)
SELECT entry.1 AS indicator, value, entry.2 AS unit
FROM figures
ARRAY JOIN
    [
        ('population_end', 'persons'),
        ('population_end_male', 'persons'),
        ('population_end_female', 'persons'),
        ('population_mid', 'persons'),
        ('births', 'events'),
        ('deaths', 'events'),
        ('marriages', 'events'),
        ('divorces', 'events'),
        ('in_migrants', 'persons'),
        ('out_migrants', 'persons'),
        ('crude_birth_rate', 'per 1000 population a year'),
        ('crude_death_rate', 'per 1000 population a year'),
        ('natural_increase_rate', 'per 1000 population a year'),
        ('general_fertility_rate', 'per 1000 women 15-49 a year'),
        ('asfr_15_19', 'per 1000 women 15-19 a year'),
        ('asfr_20_24', 'per 1000 women 20-24 a year'),
        ('asfr_25_29', 'per 1000 women 25-29 a year'),
        ('asfr_30_34', 'per 1000 women 30-34 a year'),
        ('asfr_35_39', 'per 1000 women 35-39 a year'),
        ('asfr_40_44', 'per 1000 women 40-44 a year'),
        ('asfr_45_49', 'per 1000 women 45-49 a year'),
        ('total_fertility_rate', 'children per woman'),
        ('sex_ratio_at_birth', 'male per 100 female births'),
        ('infant_mortality_rate', 'per 1000 live births'),
        ('under5_mortality_rate', 'per 1000 live births'),
        ('crude_marriage_rate', 'per 1000 population a year'),
        ('crude_divorce_rate', 'per 1000 population a year'),
        ('in_migration_rate', 'per 1000 population a year'),
        ('out_migration_rate', 'per 1000 population a year'),
        ('net_migration_rate', 'per 1000 population a year'),
        ('dependency_ratio', 'per 100 aged 15-64'),
        ('young_dependency_ratio', 'per 100 aged 15-64'),
        ('old_dependency_ratio', 'per 100 aged 15-64'),
        ('ageing_index', 'aged 65+ per 100 aged 0-14'),
        ('average_household_size', 'persons per household'),
        ('smam_female', 'years'),
        ('smam_male', 'years'),
        ('communes_online_share', 'percent'),
        ('mobile_share', 'percent'),
        ('median_registration_delay', 'days'),
        ('registered_within_30_days_share', 'percent'),
        ('collaborators_active', 'persons'),
        ('collaborators_mobile_share', 'percent')
    ] AS entry,
    [
        -- population_end, _male, _female, population_mid
        toFloat64(population_end), toFloat64(population_end_male),
        toFloat64(population_end_female), population_mid,
        -- births, deaths, marriages, divorces, in_migrants, out_migrants
        toFloat64(births), toFloat64(deaths), toFloat64(marriages), toFloat64(divorces),
        toFloat64(in_migrants), toFloat64(out_migrants),
        -- crude_birth_rate, crude_death_rate, natural_increase_rate
        births * per_mille, deaths * per_mille, (births - deaths) * per_mille,
        -- general_fertility_rate, asfr_15_19 … asfr_45_49, total_fertility_rate
        if(women_15_49 = 0, nan, births / women_15_49 * 1000 * annualise),
        asfr[1], asfr[2], asfr[3], asfr[4], asfr[5], asfr[6], asfr[7],
        5 * arraySum(asfr) / 1000,
        -- sex_ratio_at_birth, infant_mortality_rate, under5_mortality_rate
        if(births_female = 0, nan, births_male / births_female * 100),
        if(births = 0, nan, infant_deaths / births * 1000),
        if(births = 0, nan, under5_deaths / births * 1000),
        -- crude_marriage_rate, crude_divorce_rate
        marriages * per_mille, divorces * per_mille,
        -- in_migration_rate, out_migration_rate, net_migration_rate
        in_migrants * per_mille, out_migrants * per_mille,
        (in_migrants - out_migrants) * per_mille,
        -- dependency_ratio, young_dependency_ratio, old_dependency_ratio, ageing_index
        if(aged_15_64 = 0, nan, (aged_0_14 + aged_65_up) / aged_15_64 * 100),
        if(aged_15_64 = 0, nan, aged_0_14 / aged_15_64 * 100),
        if(aged_15_64 = 0, nan, aged_65_up / aged_15_64 * 100),
        if(aged_0_14 = 0, nan, aged_65_up / aged_0_14 * 100),
        -- average_household_size, smam_female, smam_male
        if(households_mid = 0, nan, population_mid / households_mid),
        smam_female, smam_male,
        -- communes_online_share, mobile_share
        if(communes = 0, nan, communes_online / communes * 100),
        if(recorded_vital = 0, nan, recorded_mobile / recorded_vital * 100),
        -- median_registration_delay, registered_within_30_days_share
        median_delay, within_30_days,
        -- collaborators_active, collaborators_mobile_share
        toFloat64(collaborators),
        if(collaborators = 0, nan, collaborators_mobile / collaborators * 100)
    ] AS value;

-- The unit's residents on one date by five-year age group (0-4 … 95-99, 100+) and sex,
-- every group present: (age_group, age_from, male, female, unknown). Ages are
-- completed years on on_date; as_was places them in the units in force on on_date.
-- Rows are placed in one pass as in indicator_values, and grouped by birth date.
CREATE OR REPLACE VIEW popreg.population_pyramid AS
WITH
    {level:String} AS p_level,
    {code:String} AS p_code,
    {units:String} AS p_units,
    {on_date:Date32} AS p_on,
    toDate32('2025-07-01') AS reform,
    p_level = 'nation' AS everywhere,

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            AS failed
    ),

    -- the codes whose rows land in the unit: any, 'after', and as an earlier row is read
    -- on the date (002_units.sql), as arrays (see indicator_values)
    (SELECT (any_reading, after, before, before_mapped) FROM popreg.unit_code_sets
     WHERE level = p_level AND unit = p_code) AS code_sets,
    code_sets.1 AS unit_codes,
    code_sets.2 AS after_codes,
    if(p_units = 'current' OR p_on >= reform, code_sets.4, code_sets.3) AS earlier_codes,

    residents AS (
        SELECT
            birth_date,
            sumIf(delta, sex = 'MALE') AS male,
            sumIf(delta, sex = 'FEMALE') AS female,
            sumIf(delta, sex NOT IN ('MALE', 'FEMALE')) AS unknown
        FROM popreg.population_deltas
        WHERE NOT by_province_sums AND on_date <= p_on
          AND (everywhere OR (commune_code IN unit_codes AND if(on_date >= reform,
                   commune_code IN after_codes, commune_code IN earlier_codes)))
        GROUP BY birth_date
    ),

    -- A province's or the nation's on 1 July or 31 December: the province sums (001),
    -- whose birth dates are a year and whether the birthday comes after 1 July
    p_level != 'commune' AND toMonth(p_on) * 100 + toDayOfMonth(p_on) IN (701, 1231)
        AS by_province_sums,
    summed AS (
        SELECT
            toInt32(toYear(p_on)) - birth_year - (birth_rank = 1 AND toMonth(p_on) = 7) AS age,
            sumIf(delta, sex = 'MALE') AS male,
            sumIf(delta, sex = 'FEMALE') AS female,
            sumIf(delta, sex NOT IN ('MALE', 'FEMALE')) AS unknown
        FROM popreg.population_year_sums
        WHERE by_province_sums AND anchor <= p_on
          AND (everywhere OR if(after_row = 1, province_after = p_code,
                                if(p_units = 'current' OR p_on >= reform,
                                   province_mapped = p_code, province_before = p_code)))
        GROUP BY age
    ),

    by_group AS (
        SELECT age_from, sum(male) AS male, sum(female) AS female, sum(unknown) AS unknown
        FROM
        (
            SELECT
                -- completed years as in indicator_values' age_group_on
                least(intDiv(toInt32(toYYYYMMDD(p_on)) - toInt32(toYYYYMMDD(birth_date)), 50000) * 5,
                      100) AS age_from,
                male, female, unknown
            FROM residents
            WHERE NOT by_province_sums
            UNION ALL
            SELECT least(intDiv(age, 5) * 5, 100) AS age_from, male, female, unknown
            FROM summed
        )
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
LEFT JOIN by_group AS r ON r.age_from = g.age_from
ORDER BY g.age_from;

-- Rejected events by the commune they name and reason, recorded in the period (recorded
-- date in Vietnam): (commune_code, reason, rejected, submitted, rate), where submitted =
-- events accepted and rejected there in the period and rate = rejected / submitted in
-- percent. A commune is placed as in indicator_values; a code that names no commune
-- is shown as reported (nation level). Undecodable messages have no date and no
-- commune: `popreg rejections` lists them. The period runs whole months, as the
-- submitted events are summed by month (submitted_months, decision 0017).
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
            + throwIf(toDayOfMonth(p_start) != 1 OR toDayOfMonth(p_end + 1) != 1 OR p_end < p_start,
                      'a period runs from the first day of a month to the last day of a month')
            AS failed
    ),

    -- the (code, reading) pairs that land in the unit (002_units.sql)
    unit_keys AS (
        SELECT code, reading FROM popreg.unit_places WHERE level = p_level AND unit = p_code
    ),

    -- accepted and rejected events recorded in the period, placed like indicator_values:
    -- the rejected ones one by one, all of them summed by month (submitted_months)
    submissions AS (
        SELECT if(p.commune = '', s.commune_code, p.commune) AS place, s.reason AS reason, s.sign AS sign
        FROM
        (
            SELECT
                commune_code,
                reason,
                sign,
                multiIf(after_reform, 'after', p_units = 'current', 'before_mapped', 'before')
                    AS reading
            FROM
            (
                SELECT commune_code, reason, toInt64(sign) AS sign,
                       assumeNotNull(occurred_on) >= reform AS after_reform
                FROM popreg.rejections
                WHERE recorded_at IS NOT NULL AND occurred_on IS NOT NULL
                  AND toDate32(toTimeZone(assumeNotNull(recorded_at), 'Asia/Ho_Chi_Minh'))
                      BETWEEN p_start AND p_end
                UNION ALL
                SELECT commune_code, '' AS reason, events AS sign, after_reform = 1 AS after_reform
                FROM popreg.submitted_months
                WHERE recorded_month BETWEEN p_start AND p_end
                  AND (p_level = 'nation' OR commune_code IN (SELECT code FROM unit_keys))
            )
        ) AS s
        LEFT JOIN (SELECT code, reading, unit AS commune FROM popreg.unit_places WHERE level = 'commune')
            AS p ON p.code = s.commune_code AND p.reading = s.reading
        WHERE p_level = 'nation' OR (s.commune_code, s.reading) IN unit_keys
    )

-- one pass over the submissions: each commune's reasons, and its total beside them
SELECT
    place AS commune_code,
    reason,
    rejected,
    submitted,
    if(submitted = 0, nan, rejected / submitted * 100) AS rate
FROM
(
    SELECT place, reason, sum(sign) AS rejected,
           sum(sum(sign)) OVER (PARTITION BY place) AS submitted
    FROM submissions
    GROUP BY place, reason
) AS r
CROSS JOIN checks
WHERE reason != '' AND rejected != 0
ORDER BY commune_code, reason;
