//! Schedules' times: every interval, or a five-field cron expression read
//! in a time zone (jiff's bundled time zone database).
//!
//! The cron fields are minute, hour, day of the month, month and day of the
//! week, each `*`, a number or a name (`JAN`, `MON`), a range `a-b`, a step
//! `*/n` or `a-b/n`, or a comma-separated list of those; `@hourly`,
//! `@daily`, `@weekly`, `@monthly` and `@yearly` stand for their usual
//! expressions. As in Vixie cron, when both the day of the month and the
//! day of the week are restricted, a day matching either fires.
//!
//! No cron crate fits: `cron`, `croner` and `saffron` all bring chrono,
//! beside the jiff the engine already uses for its dates and time zones.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A parsed cron expression: the allowed values of each field as bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Both day fields restricted: a day matching either fires.
    either_day: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    /// Parses a five-field expression; `Err` says what is wrong.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let expanded = match text.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other if other.starts_with('@') => {
                return Err(format!(
                "`{other}` is not a cron shorthand (@hourly, @daily, @weekly, @monthly, @yearly)"
            ))
            }
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), not {}",
                fields.len()
            ));
        }
        let minutes = field(fields[0], "minute", 0, 59, &[])?;
        let hours = field(fields[1], "hour", 0, 23, &[])?;
        let days = field(fields[2], "day of the month", 1, 31, &[])?;
        let months = field(fields[3], "month", 1, 12, &MONTHS)?;
        let mut weekdays = field(fields[4], "day of the week", 0, 7, &WEEKDAYS)?;
        // 7 is Sunday too.
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        let cron = Cron {
            minutes,
            hours: hours as u32,
            days: days as u32,
            months: months as u16,
            weekdays: (weekdays & 0x7f) as u8,
            either_day: !fields[2].starts_with('*') && !fields[4].starts_with('*'),
        };
        if cron.next_after(0, &TimeZone::UTC).is_none() {
            return Err(format!(
                "`{}` names no day that exists (day {} of month {})",
                text.trim(),
                fields[2],
                fields[3]
            ));
        }
        Ok(cron)
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = self.days & (1 << date.day()) != 0;
        let dow = self.weekdays & (1 << date.weekday().to_sunday_zero_offset()) != 0;
        if self.either_day {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// The first time (ms since the epoch) after `after` that matches, read
    /// in `tz`: a time skipped by a daylight-saving change fires just after
    /// the change. `None` if nothing matches in the next eight years.
    pub fn next_after(&self, after: i64, tz: &TimeZone) -> Option<i64> {
        let start = Timestamp::from_millisecond(after).ok()?;
        let local = tz.to_datetime(start);
        // The next whole minute, in local time.
        let mut t = local
            .date()
            .at(local.hour(), local.minute(), 0, 0)
            .checked_add(jiff::Span::new().minutes(1))
            .ok()?;
        let limit = local.date().year().saturating_add(8);
        while t.date().year() <= limit {
            if self.months & (1 << t.month()) == 0 {
                t = next_month(t)?;
                continue;
            }
            if !self.day_matches(t.date()) {
                t = t.date().tomorrow().ok()?.at(0, 0, 0, 0);
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = next_hour(t)?;
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t = t.checked_add(jiff::Span::new().minutes(1)).ok()?;
                continue;
            }
            let at = tz
                .to_ambiguous_timestamp(t)
                .compatible()
                .ok()?
                .as_millisecond();
            if at > after {
                return Some(at);
            }
            t = t.checked_add(jiff::Span::new().minutes(1)).ok()?;
        }
        None
    }
}

fn next_month(t: DateTime) -> Option<DateTime> {
    let first = t.date().first_of_month();
    let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
    Some(next.at(0, 0, 0, 0))
}

fn next_hour(t: DateTime) -> Option<DateTime> {
    let top = t.date().at(t.hour(), 0, 0, 0);
    top.checked_add(jiff::Span::new().hours(1)).ok()
}

/// One field's allowed values, as bits `min..=max`.
fn field(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!("`/{step}` in the {what} field is not a step above 0")
                })?;
                (range, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, what, min, max, names)?,
                value(b, what, min, max, names)?,
            )
        } else {
            let v = value(range, what, min, max, names)?;
            // `5/15`: from 5 to the end, every 15.
            (v, if step > 1 { max } else { v })
        };
        if lo > hi {
            return Err(format!("`{range}` in the {what} field runs backwards"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

fn value(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = names.iter().position(|n| *n == upper) {
        // Months are named from 1, weekdays from 0 (Sunday).
        return Ok(i as u32 + min);
    }
    match text.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        Ok(v) => Err(format!(
            "{v} is out of range for the {what} field ({min}-{max})"
        )),
        Err(_) => Err(format!("`{text}` is not a value of the {what} field")),
    }
}

/// A time zone by its IANA name, from the bundled database.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| format!("`{name}` is not a time zone the database knows"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn next(cron: &str, after: &str, tz: &str) -> String {
        let c = Cron::parse(cron).unwrap();
        let tz = time_zone(tz).unwrap();
        let at = c.next_after(ms(after), &tz).unwrap();
        Timestamp::from_millisecond(at).unwrap().to_string()
    }

    #[test]
    fn weekdays_at_nine_in_paris() {
        // 1970-01-01 was a Thursday; Paris was UTC+1.
        assert_eq!(
            next("0 9 * * MON-FRI", "1970-01-01T00:00:00Z", "Europe/Paris"),
            "1970-01-01T08:00:00Z"
        );
        assert_eq!(
            next("0 9 * * MON-FRI", "1970-01-02T08:00:00Z", "Europe/Paris"),
            "1970-01-05T08:00:00Z"
        );
        // Summer time: UTC+2.
        assert_eq!(
            next("0 9 * * *", "2026-07-01T00:00:00Z", "Europe/Paris"),
            "2026-07-01T07:00:00Z"
        );
    }

    #[test]
    fn steps_lists_and_names() {
        assert_eq!(
            next("*/15 * * * *", "2026-01-01T00:00:00Z", "UTC"),
            "2026-01-01T00:15:00Z"
        );
        assert_eq!(
            next("5,35 */6 * * *", "2026-01-01T00:40:00Z", "UTC"),
            "2026-01-01T06:05:00Z"
        );
        assert_eq!(
            next("0 0 1 jan *", "2026-03-01T00:00:00Z", "UTC"),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            next("@weekly", "2026-01-01T00:00:00Z", "UTC"),
            "2026-01-04T00:00:00Z"
        );
        assert_eq!(
            next("0 0 29 2 *", "2026-01-01T00:00:00Z", "UTC"),
            "2028-02-29T00:00:00Z"
        );
        // Either day field, when both are given.
        assert_eq!(
            next("0 0 13 * FRI", "2026-02-01T00:00:00Z", "UTC"),
            "2026-02-06T00:00:00Z"
        );
        // 7 is Sunday.
        assert_eq!(
            next("0 0 * * 7", "2026-01-01T00:00:00Z", "UTC"),
            "2026-01-04T00:00:00Z"
        );
    }

    #[test]
    fn a_time_skipped_by_summer_time_fires_after_the_change() {
        // 2026-03-29 02:30 does not exist in Paris (02:00 -> 03:00).
        assert_eq!(
            next("30 2 * * *", "2026-03-28T12:00:00Z", "Europe/Paris"),
            "2026-03-29T01:30:00Z"
        );
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for (text, says) in [
            ("* * * *", "5 fields"),
            ("60 * * * *", "out of range for the minute field"),
            ("* * * FOO *", "not a value of the month field"),
            ("*/0 * * * *", "not a step above 0"),
            ("5-1 * * * *", "runs backwards"),
            ("0 0 30 2 *", "names no day"),
            ("@often", "not a cron shorthand"),
        ] {
            let e = Cron::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
