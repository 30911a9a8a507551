//! Wire times → UTC. Wires write ISO 8601 in extended (`2026-03-02T09:15:00+01:00`) and
//! basic (`20260302T091500Z`, NITF `norm`) form, sometimes without an offset; a time
//! without one is read in the configured provider time zone.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// `UTC`/`Z`/`GMT` or a fixed offset (`+01:00`, `-0500`, `+05`).
pub(crate) fn parse_zone(text: &str) -> Option<FixedOffset> {
    let t = text.trim();
    if ["utc", "z", "gmt", "etc/utc", ""].contains(&t.to_ascii_lowercase().as_str()) {
        return FixedOffset::east_opt(0);
    }
    parse_offset(t)
}

fn parse_offset(t: &str) -> Option<FixedOffset> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// A US/Europe zone abbreviation used in wire trailers (`1523EST`).
pub(crate) fn abbreviation_offset(abbr: &str) -> Option<FixedOffset> {
    let hours = match abbr.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "UT" => 0,
        "BST" | "CET" => 1,
        "CEST" | "EET" => 2,
        "EEST" => 3,
        "EST" => -5,
        "EDT" | "AST" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        _ => return None,
    };
    FixedOffset::east_opt(hours * 3600)
}

/// Parses a wire time; `None` when it is not one of the accepted shapes.
pub(crate) fn parse_time(text: &str, tz: FixedOffset) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() || !t.is_ascii() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    // Split a trailing zone off the time part (after the `T` or space).
    let (naive, zone) = match t.find(['T', 't', ' ']) {
        Some(tpos) => {
            let time_part = &t[tpos + 1..];
            if let Some(stripped) = time_part.strip_suffix(['Z', 'z']) {
                (&t[..tpos + 1 + stripped.len()], FixedOffset::east_opt(0))
            } else if let Some(off) = time_part.rfind(['+', '-']) {
                (&t[..tpos + 1 + off], Some(parse_offset(&time_part[off..])?))
            } else {
                (t, None)
            }
        }
        None => (t, None),
    };
    let zone = zone.unwrap_or(tz);
    let naive = naive.trim();
    const DATETIME: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y%m%dT%H%M%S%.f",
        "%Y%m%dT%H%M",
        "%Y-%m-%dT%H%M%S",
    ];
    let parsed = DATETIME
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(naive, f).ok())
        .or_else(|| {
            ["%Y-%m-%d", "%Y%m%d"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(naive, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    zone.from_local_datetime(&parsed)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).expect("valid")
    }

    #[test]
    fn shapes() {
        let plus1 = FixedOffset::east_opt(3600).expect("valid");
        for (input, tz, want) in [
            (
                "2026-03-02T09:15:00+01:00",
                utc(),
                Some("2026-03-02T08:15:00+00:00"),
            ),
            ("20091123T114428Z", utc(), Some("2009-11-23T11:44:28+00:00")),
            (
                "20091123T114428-0500",
                utc(),
                Some("2009-11-23T16:44:28+00:00"),
            ),
            (
                "2026-03-02T09:15:00",
                plus1,
                Some("2026-03-02T08:15:00+00:00"),
            ),
            ("2026-03-02", utc(), Some("2026-03-02T00:00:00+00:00")),
            ("20260302", plus1, Some("2026-03-01T23:00:00+00:00")),
            (
                "2016-02-09T09:17:00+03:00\n    ",
                utc(),
                Some("2016-02-09T06:17:00+00:00"),
            ),
            ("yesterday", utc(), None),
            ("2026-13-40", utc(), None),
            ("2026-03-02T09:15:00+99:00", utc(), None),
        ] {
            assert_eq!(
                parse_time(input, tz).map(|t| t.to_rfc3339()).as_deref(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn zones() {
        assert_eq!(parse_zone("UTC"), FixedOffset::east_opt(0));
        assert_eq!(parse_zone("+01:00"), FixedOffset::east_opt(3600));
        assert_eq!(parse_zone("-0530"), FixedOffset::east_opt(-19800));
        assert_eq!(parse_zone("Europe/Paris"), None);
        assert_eq!(abbreviation_offset("est"), FixedOffset::east_opt(-18000));
    }
}
