//! HTTP dates from and to Unix seconds (UTC), without a clock or a calendar library.
//!
//! Days are converted with Howard Hinnant's `civil_from_days` / `days_from_civil` algorithms
//! (proleptic Gregorian calendar).

use alloc::string::String;
use core::fmt::Write as _;

use super::SignError;

const DAY_NAMES: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// 9999-12-31T23:59:59Z, the last second a four-digit year can show.
const MAX_SECONDS: u64 = 253_402_300_799;

/// A broken-down UTC time.
struct Civil {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    weekday: usize,
}

fn civil_from_unix(t: u64) -> Result<Civil, SignError> {
    if t > MAX_SECONDS {
        return Err(SignError::TimeOutOfRange);
    }
    let days = t / 86_400;
    let secs = t % 86_400;
    // civil_from_days, restricted to days >= 0 (1970 onwards).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    Ok(Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs % 3600 / 60,
        second: secs % 60,
        weekday: (days % 7) as usize,
    })
}

fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn unix_from_parts(year: u64, month: u64, day: u64, h: u64, m: u64, s: u64) -> Option<u64> {
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || h > 23
        || m > 59
        || s > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s.min(59))
}

/// `yyyymmddThhmmssZ`, the V4 `x-oss-date` form.
///
/// # Errors
/// [`SignError::TimeOutOfRange`] after year 9999.
pub fn format_iso8601_basic(t: u64) -> Result<String, SignError> {
    let c = civil_from_unix(t)?;
    let mut s = String::with_capacity(16);
    // Writing into a String cannot fail.
    let _ = write!(
        s,
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    Ok(s)
}

/// RFC 1123 (`Wed, 28 Dec 2022 10:27:41 GMT`), the HTTP `Date` form.
///
/// # Errors
/// [`SignError::TimeOutOfRange`] after year 9999.
pub fn format_rfc1123(t: u64) -> Result<String, SignError> {
    let c = civil_from_unix(t)?;
    let mut s = String::with_capacity(29);
    let _ = write!(
        s,
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAY_NAMES[c.weekday],
        c.day,
        MONTH_NAMES[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    );
    Ok(s)
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `yyyymmddThhmmssZ` into Unix seconds; `None` if the text is not exactly that form
/// or names an impossible date.
pub fn parse_iso8601_basic(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| s.get(r).and_then(digits);
    unix_from_parts(
        num(0..4)?,
        num(4..6)?,
        num(6..8)?,
        num(9..11)?,
        num(11..13)?,
        num(13..15)?,
    )
}

/// Parses an RFC 1123 date (`Wed, 28 Dec 2022 10:27:41 GMT`) into Unix seconds; `None` if it
/// is not that form. The day name is checked for shape only.
pub fn parse_rfc1123(s: &str) -> Option<u64> {
    let rest = s.trim().split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day = digits(parts.next()?)?;
    let month_name = parts.next()?;
    let month = MONTH_NAMES.iter().position(|m| *m == month_name)? as u64 + 1;
    let year = digits(parts.next()?)?;
    let mut hms = parts.next()?.split(':');
    let (h, m, sec) = (
        digits(hms.next()?)?,
        digits(hms.next()?)?,
        digits(hms.next()?)?,
    );
    if hms.next().is_some() || parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    unix_from_parts(year, month, day, h, m, sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for t in [
            0u64,
            951_782_400,
            1_672_223_261,
            1_702_743_657,
            4_107_542_400,
            MAX_SECONDS,
        ] {
            assert_eq!(
                parse_iso8601_basic(&format_iso8601_basic(t).unwrap()),
                Some(t)
            );
            assert_eq!(parse_rfc1123(&format_rfc1123(t).unwrap()), Some(t));
        }
        assert_eq!(
            format_rfc1123(1_672_223_261).unwrap(),
            "Wed, 28 Dec 2022 10:27:41 GMT"
        );
        assert_eq!(
            format_iso8601_basic(951_782_400).unwrap(),
            "20000229T000000Z"
        );
        assert_eq!(
            format_iso8601_basic(MAX_SECONDS + 1),
            Err(SignError::TimeOutOfRange)
        );
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "20230230T000000Z",
            "2023121T162057Z",
            "20231216T246057Z",
            "20231216 162057Z",
            "+0231216T162057Z",
        ] {
            assert_eq!(parse_iso8601_basic(s), None, "{s}");
        }
        for s in [
            "Wed, 28 Dec 2022 10:27:41",
            "Wed, 28 Foo 2022 10:27:41 GMT",
            "Wed, 28 Dec 2022 10:27 GMT",
            "28 Dec 2022 10:27:41 GMT",
        ] {
            assert_eq!(parse_rfc1123(s), None, "{s}");
        }
    }
}
