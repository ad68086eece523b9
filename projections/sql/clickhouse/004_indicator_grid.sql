-- The indicators' sums for many units and periods in one query each: a map (every
-- province, or every commune of one, for a year) or a unit's series (one unit, many
-- years or months). `indicator_values` (003) answers one unit and one period; a page
-- asking it once per unit and period paid its analysis, about 100 ms, each time.
--
-- Two views, the two parts `projections/indicators.py` sends at once: the stocks and
-- households, and the flows and communes online. Each returns one row per unit and
-- period with the columns of `indicator_values`' part of the same name, which
-- `projections/domain/indicator_formulas.py` turns into figures. A test holds each
-- cell to `indicator_values` for the same unit and period.
--
-- Parameters, shared by both:
--   level   'nation' | 'province' | 'commune': the level of every unit asked for
--   codes   the units' codes ([''] for the nation)
--   units   'as_was' | 'current', as in 003
--   starts, ends   the periods, side by side: each from the first day of a month to
--                  the last day of a month
-- A row's `unit` is its unit's code, its `period` the period's place in `starts` (1 …).
--
-- A row lands in a unit as in 003, by reading ('after' for a row dated from the reform
-- on; for an earlier one 'before_mapped' in today's units or for a figure about a date
-- from the reform on, otherwise 'before'); here the unit is looked up from the row's
-- code and reading (`landing`, `unit_on`) instead of tested against one unit's codes.
-- At one level a (reading, code) lands in one unit, so no row counts twice.

CREATE OR REPLACE VIEW popreg.indicator_stock_grid AS
WITH
    {level:String} AS p_level,
    {codes:Array(String)} AS p_codes,
    {units:String} AS p_units,
    {starts:Array(Date32)} AS p_starts,
    {ends:Array(Date32)} AS p_ends,
    toDate32('2025-07-01') AS reform,
    p_level = 'nation' AS everywhere,
    arrayEnumerate(p_starts) AS periods,
    arrayMap((s, e) -> dateDiff('month', s, e + 1), p_starts, p_ends) AS months,
    -- the stock dates of each period as in 003: 1 July of a calendar year, otherwise the
    -- day before the period; and the last day. `mids`: how many of them the mid-period
    -- stock is the mean of.
    arrayMap((s, m) -> m = 12 AND toMonth(s) = 1, p_starts, months) AS calendar_years,
    arrayMap((s, c) -> if(c, makeDate32(toYear(s), 7, 1), s - 1), p_starts, calendar_years)
        AS first_days,
    arrayMap(c -> 2 - c, calendar_years) AS mids,
    arraySort(arrayDistinct(arrayConcat(first_days, p_ends))) AS days,
    arrayMax(p_ends) AS last_day,
    -- A birth date is read as its year and its rank among the stock dates' days of the
    -- year (how many of their month-days come before its own): completed years on a
    -- stock date need no more, and a series' dates share few month-days (1 July and
    -- 31 December for years), so the deltas fold into a few hundred births instead of
    -- thousands before they are multiplied by the dates.
    arraySort(arrayDistinct(arrayMap(d -> toMonth(d) * 100 + toDayOfMonth(d), days))) AS month_days,
    d -> toMonth(d) * 100 + toDayOfMonth(d) AS month_day,
    -- the five-year age group (0 = 0-4 or younger … 20 = 100 and over) on `day` of
    -- someone born in `birth_year` after `birth_rank` of the month-days
    (birth_year, birth_rank, day) -> toUInt8(least(greatest(intDiv(
        toInt32(toYear(day)) - birth_year - (birth_rank > indexOf(month_days, month_day(day)) - 1),
        5), 0), 20)) AS age_group_on,
    -- The unit a row lands in on `day`, from its code's units by reading (`landing`):
    -- 'after' for a row dated from the reform on (`after_row`); for an earlier one
    -- 'before_mapped' in today's units or on a day from the reform on, else 'before'.
    -- '' where it lands in none of the units asked for; the nation takes every row.
    (after_row, day, after, before, mapped) -> if(everywhere, '', if(after_row, after,
        if(p_units = 'current' OR day >= reform, mapped, before))) AS unit_on,
    -- A province's or the nation's calendar years are read from the province sums (001),
    -- whose rows are dated by the stock dates of calendar years and whose codes are
    -- provinces already: `asked` is a row's province if it is among the units asked for.
    p_level != 'commune' AND arrayAll(c -> c, calendar_years) AS by_province_sums,
    -- and a commune's from the communes' year sums (001), dated the same way
    p_level = 'commune' AND arrayAll(c -> c, calendar_years) AS by_commune_year_sums,
    province -> if(has(p_codes, province), province, '') AS asked,

    -- Each code's unit by reading, among the units asked for. Looked up by a join: as
    -- constant arrays in the query (up to ten thousand codes), the analysis cost more
    -- than the reading.
    landing AS (
        SELECT code, anyIf(unit, reading = 'after') AS after,
               anyIf(unit, reading = 'before') AS before,
               anyIf(unit, reading = 'before_mapped') AS mapped
        FROM popreg.unit_places
        WHERE level = {level:String} AND unit IN {codes:Array(String)}
        GROUP BY code
    ),

    checks AS (
        SELECT
            throwIf(p_level NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf(p_units NOT IN ('as_was', 'current'), 'units is as_was or current')
            + throwIf(length(p_starts) = 0 OR length(p_starts) != length(p_ends),
                      'starts and ends are the periods side by side')
            + throwIf(arrayExists((s, e, m) -> toDayOfMonth(s) != 1 OR toDayOfMonth(e + 1) != 1
                                  OR m < 1, p_starts, p_ends, months),
                      'a period runs from the first day of a month to the last day of a month')
            AS failed
    ),

    -- Residents of each unit on each stock date by age group and sex. The deltas are
    -- first summed by what decides where and when they count (their code, which stock
    -- dates they are dated by, which side of the reform), then by the units they land in
    -- before and from the reform (a commune's code lands in the same unit on every day
    -- on one side of it), so that the stock dates are taken over far fewer rows.
    deltas_by_commune AS (
        SELECT
            unit_on(after_row, reform - 1, l.after, l.before, l.mapped) AS unit_early,
            unit_on(after_row, reform, l.after, l.before, l.mapped) AS unit_late,
            birth_year, birth_rank, sex_code, first_counted,
            sum(net) AS net, sum(net_single) AS net_single, sum(net_known) AS net_known
        FROM
        (
            SELECT
                commune_code,
                toInt32(toYear(birth_key)) AS birth_year,
                arrayCount(m -> m < month_day(birth_key), month_days) AS birth_rank,
                multiIf(sex = 'MALE', 1, sex = 'FEMALE', 2, 0) AS sex_code,
                on_key >= reform AS after_row,
                arrayFirstIndex(d -> d >= on_key, days) AS first_counted,
                sum(delta) AS net,
                sumIf(delta, marital_status = 'NEVER_MARRIED') AS net_single,
                sumIf(delta, marital_status != 'UNKNOWN') AS net_known
            FROM popreg.population_stock_deltas
            WHERE NOT by_province_sums AND NOT by_commune_year_sums AND on_key <= last_day
              AND (everywhere OR commune_code IN (SELECT code FROM landing))
            GROUP BY commune_code, birth_year, birth_rank, sex_code, after_row, first_counted
        ) AS r
        LEFT JOIN landing AS l ON l.code = r.commune_code
        GROUP BY unit_early, unit_late, birth_year, birth_rank, sex_code, first_counted
    ),
    -- a commune's calendar years: the communes' year sums, whose birth ranks are those
    -- of the calendar years' month-days (after 1 July or not)
    deltas_by_commune_years AS (
        SELECT
            unit_on(after_row, reform - 1, l.after, l.before, l.mapped) AS unit_early,
            unit_on(after_row, reform, l.after, l.before, l.mapped) AS unit_late,
            birth_year, birth_rank, sex_code, first_counted,
            sum(net) AS net, sum(net_single) AS net_single, sum(net_known) AS net_known
        FROM
        (
            SELECT
                commune_code, birth_year, birth_rank,
                multiIf(sex = 'MALE', 1, sex = 'FEMALE', 2, 0) AS sex_code,
                after_row,
                arrayFirstIndex(d -> d >= anchor, days) AS first_counted,
                sum(delta) AS net,
                sumIf(delta, marital = 0) AS net_single,
                sumIf(delta, marital != 2) AS net_known
            FROM popreg.population_commune_year_sums
            WHERE by_commune_year_sums AND anchor <= last_day
              AND commune_code IN (SELECT code FROM landing)
            GROUP BY commune_code, birth_year, birth_rank, sex_code, after_row, first_counted
        ) AS r
        LEFT JOIN landing AS l ON l.code = r.commune_code
        GROUP BY unit_early, unit_late, birth_year, birth_rank, sex_code, first_counted
    ),
    -- a province's or the nation's calendar years: the province sums (001), whose codes
    -- are provinces already, kept where among the units asked for (`asked`)
    deltas_by_province AS (
        SELECT
            unit_on(after_row, reform - 1, asked(province_after), asked(province_before),
                    asked(province_mapped)) AS unit_early,
            unit_on(after_row, reform, asked(province_after), asked(province_before),
                    asked(province_mapped)) AS unit_late,
            birth_year, birth_rank,
            multiIf(sex = 'MALE', 1, sex = 'FEMALE', 2, 0) AS sex_code,
            arrayFirstIndex(d -> d >= anchor, days) AS first_counted,
            sum(delta) AS net,
            sumIf(delta, marital = 0) AS net_single,
            sumIf(delta, marital != 2) AS net_known
        FROM popreg.population_year_sums
        WHERE by_province_sums AND anchor <= last_day
          AND (everywhere OR province_after IN p_codes OR province_before IN p_codes
               OR province_mapped IN p_codes)
        GROUP BY unit_early, unit_late, birth_year, birth_rank, sex_code, first_counted
    ),
    residents AS (
        SELECT
            day,
            if(day >= reform, unit_late, unit_early) AS unit,
            age_group_on(birth_year, birth_rank, day) AS age_group,
            sex_code,
            sum(net) AS persons,
            sum(net_single) AS single,
            sum(net_known) AS known
        FROM
        (
            SELECT * FROM deltas_by_commune UNION ALL SELECT * FROM deltas_by_commune_years
            UNION ALL SELECT * FROM deltas_by_province
        ) AS g
        ARRAY JOIN arraySlice(days, first_counted) AS day
        WHERE everywhere OR unit != ''
        GROUP BY day, unit, age_group, sex_code
    ),

    -- each period's mid-period sums (`mid_*`) and its last day's (`end_*`) by age group
    people AS (
        SELECT
            unit,
            period,
            age_group,
            sum(mid * persons) AS mid_persons,
            sum(mid * persons * (sex_code = 2)) AS mid_women,
            sum(mid * single * (sex_code = 2)) AS mid_single_women,
            sum(mid * known * (sex_code = 2)) AS mid_known_women,
            sum(mid * single * (sex_code = 1)) AS mid_single_men,
            sum(mid * known * (sex_code = 1)) AS mid_known_men,
            sum(last * persons) AS end_persons,
            sum(last * persons * (sex_code = 1)) AS end_men,
            sum(last * persons * (sex_code = 2)) AS end_women
        FROM
        (
            -- weights: in the mid-period sum the first date once and the last (mids - 1)
            -- times (0 for a calendar year); in the end-of-period stock the last date
            SELECT
                *,
                period,
                toInt64((first_days[period] = day) + (p_ends[period] = day) * (mids[period] - 1))
                    AS mid,
                toInt64(p_ends[period] = day) AS last
            FROM residents
            ARRAY JOIN arrayFilter(i -> first_days[i] = day OR p_ends[i] = day, periods) AS period
        )
        GROUP BY unit, period, age_group
    ),

    stocks AS (
        SELECT
            *,
            arraySum(persons_by_group) / mids[period] AS population_mid,
            arraySum(arraySlice(women, 4, 7)) / mids[period] AS women_15_49,
            arrayMap(w -> w / mids[period], arraySlice(women, 4, 7)) AS women_by_group,
            arraySum(arraySlice(persons_by_group, 1, 3)) / mids[period] AS aged_0_14,
            arraySum(arraySlice(persons_by_group, 4, 10)) / mids[period] AS aged_15_64,
            arraySum(arraySlice(persons_by_group, 14)) / mids[period] AS aged_65_up,
            arraySlice(single_women_by_group, 4, 8) AS single_women,
            arraySlice(known_women_by_group, 4, 8) AS known_women,
            arraySlice(single_men_by_group, 4, 8) AS single_men,
            arraySlice(known_men_by_group, 4, 8) AS known_men
        FROM
        (
            SELECT
                unit,
                period,
                sum(end_persons) AS population_end,
                sum(end_men) AS population_end_male,
                sum(end_women) AS population_end_female,
                groupArrayInsertAt(0, 21)(mid_persons, age_group) AS persons_by_group,
                groupArrayInsertAt(0, 21)(mid_women, age_group) AS women,
                groupArrayInsertAt(0, 21)(mid_single_women, age_group) AS single_women_by_group,
                groupArrayInsertAt(0, 21)(mid_known_women, age_group) AS known_women_by_group,
                groupArrayInsertAt(0, 21)(mid_single_men, age_group) AS single_men_by_group,
                groupArrayInsertAt(0, 21)(mid_known_men, age_group) AS known_men_by_group
            FROM people
            GROUP BY unit, period
        )
    ),

    -- households of each unit on each stock date, summed as the residents are
    households_by_commune AS (
        SELECT unit_on(after_row, reform - 1, l.after, l.before, l.mapped) AS unit_early,
               unit_on(after_row, reform, l.after, l.before, l.mapped) AS unit_late,
               first_counted, sum(net) AS net
        FROM
        (
            SELECT commune_code,
                   on_date >= reform AS after_row,
                   arrayFirstIndex(d -> d >= on_date, days) AS first_counted,
                   sum(delta) AS net
            FROM popreg.household_deltas
            WHERE NOT by_province_sums AND NOT by_commune_year_sums AND on_date <= last_day
              AND (everywhere OR commune_code IN (SELECT code FROM landing))
            GROUP BY commune_code, after_row, first_counted
        ) AS r
        LEFT JOIN landing AS l ON l.code = r.commune_code
        GROUP BY unit_early, unit_late, first_counted
    ),
    households_by_commune_years AS (
        SELECT unit_on(after_row, reform - 1, l.after, l.before, l.mapped) AS unit_early,
               unit_on(after_row, reform, l.after, l.before, l.mapped) AS unit_late,
               first_counted, sum(net) AS net
        FROM
        (
            SELECT commune_code, after_row,
                   arrayFirstIndex(d -> d >= anchor, days) AS first_counted,
                   sum(delta) AS net
            FROM popreg.household_commune_year_sums
            WHERE by_commune_year_sums AND anchor <= last_day
              AND commune_code IN (SELECT code FROM landing)
            GROUP BY commune_code, after_row, first_counted
        ) AS r
        LEFT JOIN landing AS l ON l.code = r.commune_code
        GROUP BY unit_early, unit_late, first_counted
    ),
    households_by_province AS (
        SELECT
            unit_on(after_row, reform - 1, asked(province_after), asked(province_before),
                    asked(province_mapped)) AS unit_early,
            unit_on(after_row, reform, asked(province_after), asked(province_before),
                    asked(province_mapped)) AS unit_late,
            arrayFirstIndex(d -> d >= anchor, days) AS first_counted,
            sum(delta) AS net
        FROM popreg.household_year_sums
        WHERE by_province_sums AND anchor <= last_day
          AND (everywhere OR province_after IN p_codes OR province_before IN p_codes
               OR province_mapped IN p_codes)
        GROUP BY unit_early, unit_late, first_counted
    ),
    household_days AS (
        SELECT day, if(day >= reform, unit_late, unit_early) AS unit, sum(net) AS count
        FROM
        (
            SELECT * FROM households_by_commune UNION ALL SELECT * FROM households_by_commune_years
            UNION ALL SELECT * FROM households_by_province
        ) AS g
        ARRAY JOIN arraySlice(days, first_counted) AS day
        WHERE everywhere OR unit != ''
        GROUP BY day, unit
    ),
    households AS (
        SELECT unit, period,
               sum(count * ((first_days[period] = day) + (p_ends[period] = day) * (mids[period] - 1)))
                   / mids[period] AS households_mid
        FROM household_days
        ARRAY JOIN arrayFilter(i -> first_days[i] = day OR p_ends[i] = day, periods) AS period
        GROUP BY unit, period
    ),

    -- every unit and period, so that a unit without a row still has its zeros
    grid AS (
        SELECT unit, period
        FROM (SELECT arrayJoin(if(everywhere, [''], p_codes)) AS unit)
        ARRAY JOIN periods AS period
    )

SELECT
    grid.unit AS unit,
    grid.period AS period,
    population_end, population_end_male, population_end_female, population_mid,
    women_15_49, aged_0_14, aged_15_64, aged_65_up, households_mid,
    -- a unit without residents has no stocks row: its groups are zeros, as in 003
    arrayResize(women_by_group, 7) AS women_by_group,
    arrayResize(single_women, 8) AS single_women,
    arrayResize(known_women, 8) AS known_women,
    arrayResize(single_men, 8) AS single_men,
    arrayResize(known_men, 8) AS known_men
FROM grid
CROSS JOIN checks
LEFT JOIN stocks USING (unit, period)
LEFT JOIN households USING (unit, period)
ORDER BY unit, period
SETTINGS join_use_nulls = 0;

CREATE OR REPLACE VIEW popreg.indicator_flow_grid AS
-- From the events summed by month and by the month ends of 30-day windows (001:
-- vital_event_months, vital_recorded_months, online_windows, mobile_windows), not the
-- events. The parameters are written out where they are
-- used rather than named once in the WITH list: ClickHouse analyses a named expression
-- again wherever it is used, and in this query that analysis cost more than the reading.
WITH
    -- each code's unit by reading, among the units asked for, as in the stocks above
    landing AS (
        SELECT code, anyIf(unit, reading = 'after') AS after,
               anyIf(unit, reading = 'before') AS before,
               anyIf(unit, reading = 'before_mapped') AS mapped
        FROM popreg.unit_places
        WHERE level = {level:String} AND unit IN {codes:Array(String)}
        GROUP BY code
    ),
    checks AS (
        SELECT
            throwIf({level:String} NOT IN ('commune', 'province', 'nation'),
                    'level is commune, province or nation')
            + throwIf({units:String} NOT IN ('as_was', 'current'), 'units is as_was or current')
            + throwIf(length({starts:Array(Date32)}) = 0
                      OR length({starts:Array(Date32)}) != length({ends:Array(Date32)}),
                      'starts and ends are the periods side by side')
            + throwIf(arrayExists((s, e) -> toDayOfMonth(s) != 1 OR toDayOfMonth(e + 1) != 1 OR e < s,
                                  {starts:Array(Date32)}, {ends:Array(Date32)}),
                      'a period runs from the first day of a month to the last day of a month')
            AS failed
    ),
    -- Each unit's vital events that occurred in each period. An event lands in the units
    -- in force on the day it occurred ('' where none of the units asked for; the nation
    -- takes every event); a move counts where its other commune lands elsewhere.
    events_by_commune AS (
        SELECT occurred_month, event_type, sex, age_band, mother_group, events, persons,
               if({level:String} = 'nation', '', if(occurred_month >= toDate32('2025-07-01'), l.after,
                  if({units:String} = 'current', l.mapped, l.before))) AS unit,
               other_commune = '' OR unit != if({level:String} = 'nation', '',
                  if(occurred_month >= toDate32('2025-07-01'), o.after,
                     if({units:String} = 'current', o.mapped, o.before))) AS crosses
        FROM popreg.vital_event_months AS m
        LEFT JOIN landing AS l ON l.code = m.commune_code
        LEFT JOIN landing AS o ON o.code = m.other_commune
        WHERE {level:String} = 'commune'
          AND occurred_month BETWEEN arrayMin({starts:Array(Date32)}) AND arrayMax({ends:Array(Date32)})
          AND commune_code IN (SELECT code FROM landing)
    ),
    -- a province's or the nation's from the province sums (001): their codes are
    -- provinces already, kept where among the units asked for
    events_by_province AS (
        SELECT occurred_month, event_type, sex, age_band, mother_group, events, persons,
               if({level:String} = 'nation', '', if(occurred_month >= toDate32('2025-07-01'),
                  if(has({codes:Array(String)}, province_after), province_after, ''),
                  if({units:String} = 'current',
                     if(has({codes:Array(String)}, province_mapped), province_mapped, ''),
                     if(has({codes:Array(String)}, province_before), province_before, ''))))
                  AS unit,
               other_given = 0 OR unit != if({level:String} = 'nation', '',
                  if(occurred_month >= toDate32('2025-07-01'),
                     if(has({codes:Array(String)}, other_after), other_after, ''),
                     if({units:String} = 'current',
                        if(has({codes:Array(String)}, other_mapped), other_mapped, ''),
                        if(has({codes:Array(String)}, other_before), other_before, ''))))
                  AS crosses
        FROM popreg.vital_event_province_months
        WHERE {level:String} != 'commune'
          AND occurred_month BETWEEN arrayMin({starts:Array(Date32)}) AND arrayMax({ends:Array(Date32)})
          AND ({level:String} = 'nation' OR province_after IN {codes:Array(String)}
               OR province_before IN {codes:Array(String)} OR province_mapped IN {codes:Array(String)})
    ),
    occurred AS (
        SELECT unit, period,
            sumIf(events, event_type = 'BirthRegistered') AS births,
            sumIf(events, event_type = 'BirthRegistered' AND sex = 'MALE') AS births_male,
            sumIf(events, event_type = 'BirthRegistered' AND sex = 'FEMALE') AS births_female,
            sumForEachIf(arrayMap(g -> events * (mother_group = g), [15, 20, 25, 30, 35, 40, 45]),
                         event_type = 'BirthRegistered') AS births_by_group,
            sumIf(events, event_type = 'DeathRegistered') AS deaths,
            sumIf(events, event_type = 'DeathRegistered' AND age_band = 0) AS infant_deaths,
            sumIf(events, event_type = 'DeathRegistered' AND age_band <= 1) AS under5_deaths,
            sumIf(events, event_type = 'MarriageRegistered') AS marriages,
            sumIf(events, event_type = 'DivorceRegistered') AS divorces,
            sumIf(persons, event_type = 'MovedIn' AND crosses) AS in_migrants,
            sumIf(persons, event_type = 'MovedOut' AND crosses) AS out_migrants
        FROM
        (
            SELECT * FROM events_by_commune UNION ALL SELECT * FROM events_by_province
        )
        ARRAY JOIN arrayFilter(i -> occurred_month BETWEEN {starts:Array(Date32)}[i] AND {ends:Array(Date32)}[i],
                               arrayEnumerate({starts:Array(Date32)})) AS period
        WHERE {level:String} = 'nation' OR unit != ''
        GROUP BY unit, period
    ),
    -- The events recorded in each period, and the registration delays of those with a
    -- positive net count, in order
    recorded_by_commune AS (
        SELECT recorded_month, channel, delay_days, events,
               if(after_reform = 1, l.after, if({units:String} = 'current', l.mapped, l.before))
                  AS unit
        FROM popreg.vital_recorded_months AS m
        LEFT JOIN landing AS l ON l.code = m.commune_code
        WHERE {level:String} = 'commune'
          AND recorded_month BETWEEN arrayMin({starts:Array(Date32)}) AND arrayMax({ends:Array(Date32)})
          AND commune_code IN (SELECT code FROM landing)
    ),
    -- a province's or the nation's from the province sums (001): their codes are
    -- provinces already, kept where among the units asked for
    recorded_by_province AS (
        SELECT recorded_month, channel, delay_days, events,
               if({level:String} = 'nation', '', if(after_reform = 1,
                  if(has({codes:Array(String)}, province_after), province_after, ''),
                  if({units:String} = 'current',
                     if(has({codes:Array(String)}, province_mapped), province_mapped, ''),
                     if(has({codes:Array(String)}, province_before), province_before, ''))))
                  AS unit
        FROM popreg.vital_recorded_province_months
        WHERE {level:String} != 'commune'
          AND recorded_month BETWEEN arrayMin({starts:Array(Date32)}) AND arrayMax({ends:Array(Date32)})
          AND ({level:String} = 'nation' OR province_after IN {codes:Array(String)}
               OR province_before IN {codes:Array(String)} OR province_mapped IN {codes:Array(String)})
    ),
    recorded AS (
        SELECT unit, period, 1 AS found, sum(events) AS recorded_vital,
               sumIf(events, channel = 'MOBILE') AS recorded_mobile,
               sumMap([delay_days], [events]) AS by_delay,
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
            SELECT * FROM recorded_by_commune UNION ALL SELECT * FROM recorded_by_province
        )
        ARRAY JOIN arrayFilter(i -> recorded_month BETWEEN {starts:Array(Date32)}[i] AND {ends:Array(Date32)}[i],
                               arrayEnumerate({starts:Array(Date32)})) AS period
        WHERE {level:String} = 'nation' OR unit != ''
        GROUP BY unit, period
    ),
    -- Communes online: each unit's communes in force on each period's last day (today's,
    -- for current units), and those among them where the net events recorded online in
    -- the 30 days to it are positive, each event placed in the units in force on that
    -- day, as in 003.
    online AS (
        SELECT unit, period, count() AS communes, countIf(recorded > 0) AS communes_online
        FROM
        (
            SELECT f.unit AS unit, f.period AS period, f.commune_code AS commune_code, o.recorded AS recorded
            FROM
            (
                SELECT unit, period, commune_code
                FROM
                (
                    SELECT commune_code, regime,
                           if({level:String} = 'nation', '',
                              if({level:String} = 'province', province_code, commune_code)) AS unit
                    FROM popreg.communes
                    WHERE {level:String} = 'nation' OR unit IN {codes:Array(String)}
                )
                ARRAY JOIN arrayFilter(i -> regime = if({units:String} = 'current'
                    OR {ends:Array(Date32)}[i] >= toDate32('2025-07-01'), 'after', 'before'),
                    arrayEnumerate({starts:Array(Date32)})) AS period
            ) AS f
            LEFT JOIN
            (
                SELECT e.period AS period, p.unit AS commune_code, sum(e.recorded) AS recorded
                FROM
                (
                    SELECT commune_code, period,
                           if(after_reform = 1, 'after',
                              if({units:String} = 'current' OR {ends:Array(Date32)}[period] >= toDate32('2025-07-01'),
                                 'before_mapped', 'before')) AS reading,
                           sum(events) AS recorded
                    FROM popreg.online_windows
                    ARRAY JOIN arrayFilter(i -> {ends:Array(Date32)}[i] = window_end,
                                           arrayEnumerate({starts:Array(Date32)})) AS period
                    WHERE window_end IN {ends:Array(Date32)}
                      AND ({level:String} = 'nation' OR commune_code IN (SELECT code FROM landing))
                    GROUP BY commune_code, period, reading
                ) AS e
                INNER JOIN popreg.unit_places AS p ON p.code = e.commune_code AND p.reading = e.reading
                WHERE p.level = 'commune'
                GROUP BY period, commune_code
            ) AS o ON o.commune_code = f.commune_code AND o.period = f.period
        )
        GROUP BY unit, period
    ),
    -- Collaborators of each unit on each period's last day, and those who recorded from a
    -- phone in the 30 days to it, as in 003 (accounts belong to today's communes)
    team AS (
        SELECT m.unit AS unit, m.period AS period, count() AS collaborators,
               countIf(r.hit = 1) AS collaborators_mobile
        FROM
        (
            SELECT unit, collaborator_key, period
            FROM
            (
                SELECT if({level:String} = 'nation', '', l.after) AS unit,
                       c.collaborator_key AS collaborator_key,
                       c.enrolled_on AS enrolled_on, c.revoked_on AS revoked_on
                FROM popreg.collaborators AS c
                LEFT JOIN landing AS l ON l.code = c.commune_code
                WHERE {level:String} = 'nation' OR l.after != ''
            )
            ARRAY JOIN arrayFilter(
                i -> enrolled_on <= {ends:Array(Date32)}[i]
                     AND (revoked_on IS NULL OR revoked_on > {ends:Array(Date32)}[i]),
                arrayEnumerate({starts:Array(Date32)})) AS period
        ) AS m
        LEFT JOIN
        (
            SELECT DISTINCT reporter_key, period, 1 AS hit
            FROM popreg.mobile_windows
            ARRAY JOIN arrayFilter(i -> {ends:Array(Date32)}[i] = window_end,
                                   arrayEnumerate({starts:Array(Date32)})) AS period
            WHERE window_end IN {ends:Array(Date32)}
        ) AS r ON r.reporter_key = m.collaborator_key AND r.period = m.period
        GROUP BY m.unit, m.period
    ),
    -- every unit and period, so that a unit without a row still has its zeros
    grid AS (
        SELECT unit, period
        FROM (SELECT arrayJoin(if({level:String} = 'nation', [''], {codes:Array(String)})) AS unit)
        ARRAY JOIN arrayEnumerate({starts:Array(Date32)}) AS period
    )
SELECT
    grid.unit AS unit,
    grid.period AS period,
    collaborators, collaborators_mobile,
    births, births_male, births_female, deaths, infant_deaths, under5_deaths, marriages,
    divorces, in_migrants, out_migrants, recorded_vital, recorded_mobile, communes,
    communes_online,
    -- a unit without events has no recorded row: no delays, as in 003
    arrayResize(births_by_group, 7) AS births_by_group,
    if(found = 1, median_delay, nan) AS median_delay,
    if(found = 1, within_30_days, nan) AS within_30_days
FROM grid
CROSS JOIN checks
LEFT JOIN occurred USING (unit, period)
LEFT JOIN recorded USING (unit, period)
LEFT JOIN online USING (unit, period)
LEFT JOIN team USING (unit, period)
ORDER BY unit, period
SETTINGS join_use_nulls = 0;
