//! Reports across halls for a range of days, from the per-ticket rows (one query), and the bad
//! ratings across halls. The figures are computed as the hall's own reports compute them
//! (`jiaohao-hub`'s `reports.rs`): means in minutes to one decimal, the 90th percentile by
//! nearest rank (from per-day bins of tenths of a minute, exact), the share within target over the tickets judged.
//! A ticket counts on the day it was issued, so a late rating changes that day.

use jiaohao_core::{LocalDate, Millis};
use jiaohao_wire::text::{csv_field, csv_optional};
use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::CityError;

/// One hall's figures for the range (the hall's own report's `total` row).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HallFigures {
    pub hall: String,
    pub issued: i64,
    pub called: i64,
    pub served: i64,
    pub no_shows: i64,
    pub transfers: i64,
    pub mean_wait_min: Option<f64>,
    pub p90_wait_min: Option<f64>,
    pub mean_handling_min: Option<f64>,
    pub within_target_pct: Option<f64>,
    /// Counts of ratings 5 (very satisfied) down to 1 (very dissatisfied).
    pub ratings: [i64; 5],
    pub rating_mean: Option<f64>,
    /// 差评 cases of ratings given on the range's days, as they stand now.
    pub cases: i64,
    pub cases_called_back: i64,
    pub cases_fixed_in_time: i64,
    /// Not fixed and past due, by the city's clock in the hall's time zone.
    pub cases_overdue: i64,
    /// 回访率 and 按期整改率 in percent, one decimal, as the hall's report rounds them.
    pub callback_pct: Option<f64>,
    pub fixed_in_time_pct: Option<f64>,
}

impl HallFigures {
    /// These figures with the case counts `[cases, called back, fixed in time, overdue]`.
    fn with_cases(self, [cases, called_back, in_time, overdue]: [i64; 4]) -> HallFigures {
        HallFigures {
            cases,
            cases_called_back: called_back,
            cases_fixed_in_time: in_time,
            cases_overdue: overdue,
            callback_pct: pct(called_back, cases),
            fixed_in_time_pct: pct(in_time, cases),
            ..self
        }
    }
}

/// A share in percent with one decimal, as the core's `CaseFigures` rounds it.
fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The case counts `[cases, called back, fixed in time, overdue]` of the ratings given on the
/// range's days, per hall name (and per service when `by_service`, else under "").
async fn case_counts(
    client: &impl GenericClient,
    from: LocalDate,
    to: LocalDate,
    by_service: bool,
) -> Result<std::collections::HashMap<(String, String), [i64; 4]>, CityError> {
    let service = if by_service { "c.service" } else { "''" };
    let rows = client
        .query(
            &format!(
                "SELECT h.name, {service}, count(*), count(c.called_back_on),
                        count(*) FILTER (WHERE c.fixed_in_time),
                        count(*) FILTER (WHERE c.fixed_on IS NULL
                                         AND c.due < (now() AT TIME ZONE h.timezone)::date)
                 FROM cases c JOIN halls h ON h.id = c.hall
                 WHERE c.day BETWEEN $1::text::date AND $2::text::date
                 GROUP BY 1, 2"
            ),
            &[&from.to_string(), &to.to_string()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r.get(0), r.get(1)),
                [r.get(2), r.get(3), r.get(4), r.get(5)],
            )
        })
        .collect())
}

fn minutes(ms: f64) -> f64 {
    (ms / Millis::MINUTE as f64 * 10.0).round() / 10.0
}

/// Parses a range of days; at most 366 days.
pub fn parse_range(from: &str, to: &str) -> Result<(LocalDate, LocalDate), CityError> {
    let parse = |text: &str| {
        LocalDate::parse(text.trim())
            .map_err(|_| CityError::Invalid(format!("'{text}' is not a date like 2026-11-23")))
    };
    let (from, to) = (parse(from)?, parse(to)?);
    if to < from {
        return Err(CityError::Invalid(format!(
            "the range ends ({to}) before it starts ({from})"
        )));
    }
    let span = jiff::civil::date(from.year, from.month as i8, from.day as i8)
        .until(jiff::civil::date(to.year, to.month as i8, to.day as i8))
        .map(|s| s.get_days())
        .unwrap_or(i32::MAX);
    if span > 366 {
        return Err(CityError::Invalid(
            "a report covers at most 366 days".into(),
        ));
    }
    Ok((from, to))
}

/// Every hall's figures for `from..=to`, halls without tickets included, in name order.
pub async fn across_halls(
    client: &impl GenericClient,
    from: LocalDate,
    to: LocalDate,
) -> Result<Vec<HallFigures>, CityError> {
    // The sums per hall and day, and the p90 from the wait bins: the smallest bin whose
    // running count reaches the nearest rank, ceil(0.9 n), i.e. 10 * running >= 9 * n.
    let rows = client
        .query(
            "WITH sums AS (
                SELECT hall, sum(issued)::bigint AS issued, sum(called)::bigint AS called,
                       sum(served)::bigint AS served, sum(no_shows)::bigint AS no_shows,
                       sum(transfers)::bigint AS transfers, sum(wait_sum)::bigint AS wait_sum,
                       sum(handling_sum)::bigint AS handling_sum, sum(handled)::bigint AS handled,
                       sum(judged)::bigint AS judged, sum(within_target)::bigint AS within_target,
                       sum(rated_5)::bigint AS r5, sum(rated_4)::bigint AS r4,
                       sum(rated_3)::bigint AS r3, sum(rated_2)::bigint AS r2,
                       sum(rated_1)::bigint AS r1
                FROM hall_days WHERE day BETWEEN $1::text::date AND $2::text::date GROUP BY hall),
             bins AS (
                SELECT hall, bin, sum(n)::bigint AS n FROM wait_bins
                WHERE day BETWEEN $1::text::date AND $2::text::date GROUP BY hall, bin),
             running AS (
                SELECT hall, bin, sum(n) OVER (PARTITION BY hall ORDER BY bin)::bigint AS upto,
                       sum(n) OVER (PARTITION BY hall)::bigint AS total FROM bins),
             p90 AS (SELECT hall, min(bin) AS bin FROM running WHERE 10 * upto >= 9 * total GROUP BY hall)
             SELECT h.name, coalesce(s.issued, 0), coalesce(s.called, 0), coalesce(s.served, 0),
                    coalesce(s.no_shows, 0), coalesce(s.transfers, 0), s.wait_sum, p.bin,
                    s.handling_sum, coalesce(s.handled, 0), coalesce(s.judged, 0),
                    coalesce(s.within_target, 0), coalesce(s.r5, 0), coalesce(s.r4, 0),
                    coalesce(s.r3, 0), coalesce(s.r2, 0), coalesce(s.r1, 0)
             FROM halls h LEFT JOIN sums s ON s.hall = h.id LEFT JOIN p90 p ON p.hall = h.id
             ORDER BY h.name",
            &[&from.to_string(), &to.to_string()],
        )
        .await?;
    let cases = case_counts(client, from, to, false).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let hall: String = r.get(0);
            let counts = cases.get(&(hall.clone(), String::new()));
            figures(hall, r, 1).with_cases(counts.copied().unwrap_or_default())
        })
        .collect())
}

/// One service's figures in one hall for the range (the hall's own report's row of that
/// service).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceFigures {
    pub service: String,
    #[serde(flatten)]
    pub figures: HallFigures,
}

/// Every hall's figures per service for `from..=to` (the services that had tickets), in hall
/// and service order, from the per-ticket rows. A ticket counts, all of it, under the last
/// service it was in (after a transfer, the one it went to); the hall's own report counts its
/// issuing under the service it was issued for, so a transferred ticket's row can differ there.
pub async fn across_halls_by_service(
    client: &impl GenericClient,
    from: LocalDate,
    to: LocalDate,
) -> Result<Vec<ServiceFigures>, CityError> {
    // The p90 by nearest rank from the wait bins: percentile_disc(0.9) is the smallest bin
    // whose running share reaches 0.9, i.e. the ceil(0.9 n)-th wait.
    let rows = client
        .query(
            "SELECT h.name, t.service, count(*), count(t.wait_ms),
                    count(*) FILTER (WHERE t.outcome = 'finished'),
                    coalesce(sum(t.no_shows), 0)::bigint, coalesce(sum(t.transfers), 0)::bigint,
                    sum(t.wait_ms)::bigint,
                    percentile_disc(0.9) WITHIN GROUP (ORDER BY t.wait_bin),
                    (sum(t.handling_ms) FILTER (WHERE t.outcome = 'finished'))::bigint,
                    count(t.handling_ms) FILTER (WHERE t.outcome = 'finished'),
                    count(t.within_target), count(*) FILTER (WHERE t.within_target),
                    count(*) FILTER (WHERE t.rating = 5), count(*) FILTER (WHERE t.rating = 4),
                    count(*) FILTER (WHERE t.rating = 3), count(*) FILTER (WHERE t.rating = 2),
                    count(*) FILTER (WHERE t.rating = 1)
             FROM tickets t JOIN halls h ON h.id = t.hall
             WHERE t.day BETWEEN $1::text::date AND $2::text::date
             GROUP BY h.name, t.service ORDER BY h.name, t.service",
            &[&from.to_string(), &to.to_string()],
        )
        .await?;
    let cases = case_counts(client, from, to, true).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (hall, service): (String, String) = (r.get(0), r.get(1));
            let counts = cases.get(&(hall.clone(), service.clone()));
            ServiceFigures {
                service,
                figures: figures(hall, r, 2).with_cases(counts.copied().unwrap_or_default()),
            }
        })
        .collect())
}

/// The figures from a row whose columns from `at` on are: issued, called, served, no-shows,
/// transfers, the sum of waits, the p90 bin, the sum of handling times, the tickets handled,
/// judged and within target, and the ratings 5 down to 1.
fn figures(hall: String, r: &tokio_postgres::Row, at: usize) -> HallFigures {
    let called: i64 = r.get(at + 1);
    let wait_sum: Option<i64> = r.get(at + 5);
    let p90_bin: Option<i32> = r.get(at + 6);
    let handling_sum: Option<i64> = r.get(at + 7);
    let handled: i64 = r.get(at + 8);
    let judged: i64 = r.get(at + 9);
    let within: i64 = r.get(at + 10);
    let ratings = [
        r.get(at + 11),
        r.get(at + 12),
        r.get(at + 13),
        r.get(at + 14),
        r.get(at + 15),
    ];
    let rated: i64 = ratings.iter().sum();
    let score: i64 = ratings
        .iter()
        .zip([5, 4, 3, 2, 1])
        .map(|(n, s)| n * s)
        .sum();
    HallFigures {
        hall,
        issued: r.get(at),
        called,
        served: r.get(at + 2),
        no_shows: r.get(at + 3),
        transfers: r.get(at + 4),
        mean_wait_min: (called > 0).then(|| minutes(wait_sum.unwrap_or(0) as f64 / called as f64)),
        p90_wait_min: p90_bin.map(|bin| f64::from(bin) / 10.0),
        mean_handling_min: (handled > 0)
            .then(|| minutes(handling_sum.unwrap_or(0) as f64 / handled as f64)),
        within_target_pct: (judged > 0)
            .then(|| (1000.0 * within as f64 / judged as f64).round() / 10.0),
        ratings,
        rating_mean: (rated > 0).then(|| (score as f64 / rated as f64 * 100.0).round() / 100.0),
        cases: 0,
        cases_called_back: 0,
        cases_fixed_in_time: 0,
        cases_overdue: 0,
        callback_pct: None,
        fixed_in_time_pct: None,
    }
}

/// A bad rating (不满意 or 非常不满意) of some hall.
#[derive(Debug, Clone, Serialize)]
pub struct BadRating {
    pub hall: String,
    pub day: String,
    pub number: String,
    pub service: String,
    pub window: Option<i32>,
    pub clerk: Option<String>,
    pub rating: i16,
    pub reason: Option<String>,
    pub rated_at: Option<String>,
    /// The state of the 差评 case it opened (`open` … `closed`), if the log has one.
    pub case_state: Option<String>,
    pub case_due: Option<String>,
    /// The case is not fixed and past due (by the city's clock in the hall's time zone).
    pub case_overdue: bool,
}

/// The bad ratings of tickets issued in the range, newest first (at most 1,000).
pub async fn bad_ratings(
    client: &impl GenericClient,
    from: LocalDate,
    to: LocalDate,
) -> Result<Vec<BadRating>, CityError> {
    let rows = client
        .query(
            "SELECT h.name, t.day::text, t.number, t.service, t.called_window, t.clerk, t.rating,
                    t.rating_reason, to_char(t.rated_at AT TIME ZONE h.timezone, 'YYYY-MM-DD HH24:MI'),
                    c.state, c.due::text,
                    coalesce(c.fixed_on IS NULL AND c.due < (now() AT TIME ZONE h.timezone)::date, false)
             FROM tickets t JOIN halls h ON h.id = t.hall
                  LEFT JOIN cases c ON c.hall = t.hall AND c.case_id = t.ticket
             WHERE t.rating <= 2 AND t.day BETWEEN $1::text::date AND $2::text::date
             ORDER BY t.rated_at DESC NULLS LAST LIMIT 1000",
            &[&from.to_string(), &to.to_string()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| BadRating {
            hall: r.get(0),
            day: r.get(1),
            number: r.get(2),
            service: r.get(3),
            window: r.get(4),
            clerk: r.get(5),
            rating: r.get(6),
            reason: r.get(7),
            rated_at: r.get(8),
            case_state: r.get(9),
            case_due: r.get(10),
            case_overdue: r.get(11),
        })
        .collect())
}

/// The columns of a report's CSV after its hall (and service) columns.
const CSV_FIGURES: &str = "issued,called,served,no_shows,transfers,mean_wait_min,p90_wait_min,mean_handling_min,within_target_pct,rating_very_satisfied,rating_satisfied,rating_basic,rating_dissatisfied,rating_very_dissatisfied,rating_mean,cases,cases_called_back,callback_pct,cases_fixed_in_time,fixed_in_time_pct,cases_overdue";

fn csv_figures(row: &HallFigures) -> Vec<String> {
    let mut fields = vec![
        row.issued.to_string(),
        row.called.to_string(),
        row.served.to_string(),
        row.no_shows.to_string(),
        row.transfers.to_string(),
        csv_optional(row.mean_wait_min),
        csv_optional(row.p90_wait_min),
        csv_optional(row.mean_handling_min),
        csv_optional(row.within_target_pct),
    ];
    fields.extend(row.ratings.iter().map(ToString::to_string));
    fields.push(csv_optional(row.rating_mean));
    fields.extend([
        row.cases.to_string(),
        row.cases_called_back.to_string(),
        csv_optional(row.callback_pct),
        row.cases_fixed_in_time.to_string(),
        csv_optional(row.fixed_in_time_pct),
        row.cases_overdue.to_string(),
    ]);
    fields
}

/// The report across halls as CSV (UTF-8 with a byte-order mark, for spreadsheets).
pub fn csv(rows: &[HallFigures]) -> String {
    let mut out = format!("\u{feff}hall,{CSV_FIGURES}\r\n");
    for row in rows {
        let mut fields = vec![csv_field(&row.hall)];
        fields.extend(csv_figures(row));
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The report per hall and service as CSV (as [`csv`], with a service column).
pub fn services_csv(rows: &[ServiceFigures]) -> String {
    let mut out = format!("\u{feff}hall,service,{CSV_FIGURES}\r\n");
    for row in rows {
        let mut fields = vec![csv_field(&row.figures.hall), csv_field(&row.service)];
        fields.extend(csv_figures(&row.figures));
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
