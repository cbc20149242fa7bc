//! IMF-fixdate (`Thu, 05 Jan 2014 21:31:40 GMT`), the format of `date` and `x-date`.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::time::Timestamp;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats a time as an IMF-fixdate (RFC 9110), whole seconds, e.g.
/// `Thu, 05 Jan 2014 21:31:40 GMT` — what Python's `formatdate(usegmt=True)` and JavaScript's
/// `toUTCString()` produce.
pub fn format_http_date(t: Timestamp) -> String {
    let secs = t.as_millis().div_euclid(1000);
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let day = DAYS[usize::from(dt.weekday().number_days_from_monday())];
    let month = MONTHS[usize::from(u8::from(dt.month()) - 1)];
    format!(
        "{day}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        dt.day(),
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Parses an IMF-fixdate; `None` when the text is not one. The weekday must be a day name but
/// is not cross-checked against the date.
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    let rest = text.trim();
    let (day_name, rest) = rest.split_once(", ")?;
    if !DAYS.contains(&day_name) {
        return None;
    }
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, clock, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u8 = digits(day, 2)?.parse().ok()?;
    let month = MONTHS.iter().position(|m| m == month)?;
    let month = Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let year: i32 = digits(year, 4)?.parse().ok()?;
    let hms: Vec<&str> = clock.split(':').collect();
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    let time = Time::from_hms(
        digits(h, 2)?.parse().ok()?,
        digits(m, 2)?.parse().ok()?,
        digits(s, 2)?.parse().ok()?,
    )
    .ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let secs = PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp();
    Some(Timestamp::from_millis(secs.checked_mul(1000)?))
}

/// `s` when it is exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<&str> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn formats_and_parses_the_reference_date() {
        let t = Timestamp::parse_rfc3339("2014-01-05T21:31:40.999Z").unwrap();
        assert_eq!(format_http_date(t), "Sun, 05 Jan 2014 21:31:40 GMT");
        let parsed = parse_http_date("Thu, 05 Jan 2014 21:31:40 GMT").unwrap();
        assert_eq!(parsed.as_millis(), t.as_millis() - 999);
        assert_eq!(
            format_http_date(Timestamp::from_millis(0)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn rejects_other_formats() {
        for bad in [
            "",
            "Thu, 5 Jan 2014 21:31:40 GMT",
            "Thursday, 05-Jan-14 21:31:40 GMT",
            "Thu Jan  5 21:31:40 2014",
            "Thu, 05 Jan 2014 21:31:40 UTC",
            "Thu, 32 Jan 2014 21:31:40 GMT",
            "Thu, 05 Foo 2014 21:31:40 GMT",
            "Xyz, 05 Jan 2014 21:31:40 GMT",
            "Thu, 05 Jan 2014 24:00:00 GMT",
        ] {
            assert!(parse_http_date(bad).is_none(), "{bad}");
        }
    }
}
