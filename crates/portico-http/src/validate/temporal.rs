//! Dates and datetimes in strings, read as Pydantic reads them: the errors of invalid ones in
//! the words of Pydantic's parser (speedate), and what a lax one (a date given for a datetime)
//! becomes for chrono to deserialise. The grammar is RFC 3339's, as speedate's; a number
//! (a Unix timestamp, which speedate also takes) is left for chrono to judge.

/// What a string must hold, from its schema's `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// `date-time` (chrono's `DateTime`) or `partial-date-time` (`NaiveDateTime`): Python's
    /// `datetime`.
    DateTime,
    /// `date` (`NaiveDate`): Python's `date`.
    Date,
}

impl Temporal {
    /// The kind of a string schema's `format`, if it is one of these.
    pub(crate) fn of_format(format: Option<&str>) -> Option<Temporal> {
        match format? {
            "date-time" | "partial-date-time" => Some(Temporal::DateTime),
            "date" => Some(Temporal::Date),
            _ => None,
        }
    }
}

/// How a string reads as a date or datetime.
#[derive(Debug, PartialEq)]
pub(crate) enum Reading {
    /// As it is.
    Valid,
    /// Valid, as this text: a date alone for a datetime (at midnight), a datetime at midnight
    /// for a date, as Pydantic's lax mode takes them.
    Becomes(String),
    /// Invalid: Pydantic's error type, its message, and the parser's reason for `ctx.error`
    /// (`None` when the error has no `ctx`).
    Invalid {
        kind: &'static str,
        message: String,
        reason: Option<&'static str>,
    },
}

/// Reads `text` as Pydantic's lax mode reads a `datetime` or a `date`: a datetime, or else a
/// date (whose error is then the one reported); a date, or else a datetime at midnight.
pub(crate) fn read(kind: Temporal, text: &str) -> Reading {
    if text.trim().parse::<f64>().is_ok() {
        return Reading::Valid;
    }
    let bytes = text.as_bytes();
    let date = parse_date(bytes);
    let time = bytes.get(10..).and_then(parse_time_part);
    match kind {
        Temporal::DateTime => match (date, time) {
            (Ok(()), _) => Reading::Becomes(format!("{text}T00:00:00")),
            (Err(_), Some(_)) if parse_date(&bytes[..10]).is_ok() => Reading::Valid,
            (Err(reason), _) => invalid(
                "datetime_from_date_parsing",
                "Input should be a valid datetime or date",
                reason,
            ),
        },
        Temporal::Date => match (date, time) {
            (Ok(()), _) => Reading::Valid,
            (Err(_), Some(midnight)) if parse_date(&bytes[..10]).is_ok() => {
                if midnight {
                    Reading::Becomes(text[..10].to_owned())
                } else {
                    Reading::Invalid {
                        kind: "date_from_datetime_inexact",
                        message: "Datetimes provided to dates should have zero time - e.g. be \
                                  exact dates"
                            .to_owned(),
                        reason: None,
                    }
                }
            }
            (Err(_), _) => invalid(
                "date_from_datetime_parsing",
                "Input should be a valid date or datetime",
                datetime_error(bytes),
            ),
        },
    }
}

fn invalid(kind: &'static str, expected: &str, reason: &'static str) -> Reading {
    Reading::Invalid {
        kind,
        message: format!("{expected}, {reason}"),
        reason: Some(reason),
    }
}

/// Two or four ASCII digits as a number.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD` and nothing more, or speedate's reason why not.
fn parse_date(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.len() < 10 {
        return Err("input is too short");
    }
    let year = digits(&bytes[..4]).ok_or("invalid character in year")?;
    if bytes[4] != b'-' {
        return Err("invalid date separator, expected `-`");
    }
    let month = digits(&bytes[5..7]).ok_or("invalid character in month")?;
    if bytes[7] != b'-' {
        return Err("invalid date separator, expected `-`");
    }
    let day = digits(&bytes[8..10]).ok_or("invalid character in day")?;
    if !(1..=12).contains(&month) {
        return Err("month value is outside expected range of 1-12");
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Err("day value is outside expected range");
    }
    if bytes.len() > 10 {
        return Err("unexpected extra characters at the end of the input");
    }
    Ok(())
}

/// What follows a datetime's date: a separator and `HH:MM[:SS[.ffffff]]` with an optional
/// offset (`Z`, `+HH:MM`, `-HHMM`). `Some(midnight)` when it is one.
fn parse_time_part(bytes: &[u8]) -> Option<bool> {
    let (&sep, rest) = bytes.split_first()?;
    if !matches!(sep, b'T' | b't' | b'_' | b' ') || rest.len() < 5 {
        return None;
    }
    let hour = digits(&rest[..2]).filter(|h| *h < 24)?;
    let minute = digits(&rest[3..5]).filter(|m| *m < 60 && rest[2] == b':')?;
    let mut rest = &rest[5..];
    let mut second = 0;
    let mut fraction = 0;
    if rest.first() == Some(&b':') {
        second = rest.get(1..3).and_then(digits).filter(|s| *s < 60)?;
        rest = &rest[3..];
        if let Some(after_dot) = rest.strip_prefix(b".") {
            let count = after_dot.iter().take_while(|b| b.is_ascii_digit()).count();
            if count == 0 || count > 6 {
                return None;
            }
            fraction = digits(&after_dot[..count])?;
            rest = &after_dot[count..];
        }
    }
    let offset_ok = match rest {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            digits(&[*h1, *h2]).is_some_and(|h| h < 24)
                && digits(&[*m1, *m2]).is_some_and(|m| m < 60)
        }
        _ => false,
    };
    offset_ok.then_some((hour, minute, second, fraction) == (0, 0, 0, 0))
}

/// Why `bytes` is not a datetime, in speedate's words, as a date field reports it: exact for
/// the date, the first place it can fail for the time after it.
fn datetime_error(bytes: &[u8]) -> &'static str {
    match parse_date(bytes.get(..10).unwrap_or(bytes)) {
        Err(reason) => reason,
        Ok(()) if bytes.len() == 10 => "input is too short",
        Ok(()) => match bytes[10] {
            b'T' | b't' | b'_' | b' ' => "invalid character in hour",
            _ => "invalid datetime separator, expected `T`, `t`, `_` or space",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_datetime_reports_the_date_parsers_reason() {
        assert_eq!(
            read(Temporal::DateTime, "not a date"),
            Reading::Invalid {
                kind: "datetime_from_date_parsing",
                message: "Input should be a valid datetime or date, invalid character in year"
                    .to_owned(),
                reason: Some("invalid character in year"),
            }
        );
        let Reading::Invalid { message, .. } = read(Temporal::DateTime, "2023-01-01T25:00:00")
        else {
            panic!("an hour of 25 is invalid");
        };
        assert_eq!(
            message,
            "Input should be a valid datetime or date, unexpected extra characters at the end of \
             the input"
        );
    }

    #[test]
    fn lax_dates_and_datetimes_become_what_chrono_reads() {
        assert_eq!(
            read(Temporal::DateTime, "2023-01-01T12:00:00"),
            Reading::Valid
        );
        assert_eq!(
            read(Temporal::DateTime, "2023-01-01"),
            Reading::Becomes("2023-01-01T00:00:00".to_owned())
        );
        assert_eq!(read(Temporal::Date, "2023-01-01"), Reading::Valid);
        assert_eq!(
            read(Temporal::Date, "2023-01-01T00:00:00"),
            Reading::Becomes("2023-01-01".to_owned())
        );
        assert!(matches!(
            read(Temporal::Date, "2023-01-01T12:00:00"),
            Reading::Invalid {
                kind: "date_from_datetime_inexact",
                reason: None,
                ..
            }
        ));
        assert!(matches!(
            read(Temporal::Date, "2023-13-01"),
            Reading::Invalid {
                kind: "date_from_datetime_parsing",
                ..
            }
        ));
    }
}
