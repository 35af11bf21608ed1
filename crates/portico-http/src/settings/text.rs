//! A variable's text, read as the type its field asks for: numbers, bools as pydantic reads
//! them (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`), `Option` (empty is `None`), lists
//! (comma-separated or a JSON array), maps and structs (JSON), enums by variant name, and
//! `std::time::Duration` (`30s`, `250ms`, `1h30m`, or a number of seconds).

use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, IntoDeserializer, SeqAccess, Visitor};

use super::de::DeError;

/// A variable's text, as a deserializer.
pub(crate) struct Text<'de>(pub(crate) &'de str);

type Json<'de> = serde_json::Deserializer<serde_json::de::StrRead<'de>>;

/// Reads `text` as JSON with `read`; `what` names the shape expected, for the message.
fn json<'de, T>(
    text: &'de str,
    what: &str,
    read: impl FnOnce(&mut Json<'de>) -> Result<T, serde_json::Error>,
) -> Result<T, DeError> {
    let mut de = serde_json::Deserializer::from_str(text);
    read(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|err| DeError::Invalid(format!("is not a valid {what}: {err}")))
}

fn integer<T: FromStr>(
    text: &str,
    name: &str,
    min: &dyn ToString,
    max: &dyn ToString,
) -> Result<T, DeError> {
    text.trim().parse().map_err(|_| {
        DeError::Invalid(format!(
            "is not a valid {name} (a whole number from {} to {})",
            min.to_string(),
            max.to_string()
        ))
    })
}

/// Whether `name` and `fields` are those serde gives `std::time::Duration`.
pub(crate) fn is_duration(name: &str, fields: &[&str]) -> bool {
    name == "Duration" && fields == ["secs", "nanos"]
}

/// Parses a duration: a number of seconds (`1.5`), or numbers each followed by a unit, `ns`,
/// `us`/`µs`, `ms`, `s`, `m`/`min`, `h` or `d` (`1h30m`, `250ms`, `2 min`).
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(end);
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let nanos_per: u64 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" | "sec" | "secs" => 1_000_000_000,
            "m" | "min" | "mins" => 60 * 1_000_000_000,
            "h" | "hr" | "hrs" => 3_600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            _ => return None,
        };
        let part = if let Ok(whole) = number.parse::<u64>() {
            let nanos = u128::from(whole) * u128::from(nanos_per);
            let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
            Duration::new(secs, (nanos % 1_000_000_000) as u32)
        } else {
            let count: f64 = number.parse().ok()?;
            Duration::try_from_secs_f64(count * nanos_per as f64 / 1e9).ok()?
        };
        total = total.checked_add(part)?;
        rest = after.trim_start();
    }
    (!text.is_empty()).then_some(total)
}

macro_rules! integers {
    ($($method:ident $visit:ident $ty:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            visitor.$visit(integer::<$ty>(self.0, stringify!($ty), &$ty::MIN, &$ty::MAX)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Text<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "on" | "t" => visitor.visit_bool(true),
            "false" | "0" | "no" | "n" | "off" | "f" => visitor.visit_bool(false),
            _ => Err(DeError::Invalid(
                "is not a valid bool (true/false, 1/0, yes/no, on/off)".into(),
            )),
        }
    }

    integers! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.trim().parse() {
            Ok(number) => visitor.visit_f64(number),
            Err(_) => Err(DeError::Invalid("is not a valid number".into())),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let mut chars = self.0.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(DeError::Invalid("is not a single character".into())),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_bytes(self.0.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_bytes(self.0.as_bytes())
    }

    /// An empty value is `None`: an env file has no other way to say "not set".
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.trim().is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.trim().is_empty() {
            visitor.visit_unit()
        } else {
            Err(DeError::Invalid("is not empty".into()))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A JSON array, or items separated by commas (each trimmed; an empty value is no item).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.0.trim();
        if text.starts_with('[') {
            return json(text, "JSON array", |de| {
                de::Deserializer::deserialize_seq(de, visitor)
            });
        }
        let mut items = Items {
            items: (!text.is_empty()).then(|| text.split(',')),
            index: 0,
        };
        let value = visitor.visit_seq(&mut items)?;
        match items.items.map_or(0, Iterator::count) {
            0 => Ok(value),
            n => Err(DeError::Invalid(format!(
                "is not a valid list: it has {n} more item(s) than expected"
            ))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        json(self.0, "JSON object", |de| {
            de::Deserializer::deserialize_map(de, visitor)
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if is_duration(name, fields) && !self.0.trim_start().starts_with('{') {
            let Some(duration) = parse_duration(self.0) else {
                return Err(DeError::Invalid(
                    "is not a valid duration (such as 30s, 250ms, 1h30m, or a number of seconds)"
                        .into(),
                ));
            };
            let parts = [duration.as_secs(), u64::from(duration.subsec_nanos())];
            return visitor.visit_seq(de::value::SeqDeserializer::new(parts.into_iter()));
        }
        json(self.0, "JSON object", |de| {
            de::Deserializer::deserialize_struct(de, name, fields, visitor)
        })
    }

    /// A variant by name (exactly, or else in any case when that names one variant), or a
    /// JSON object for a variant with data.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let text = self.0.trim();
        if text.starts_with('{') {
            return json(text, "JSON object", |de| {
                de::Deserializer::deserialize_enum(de, name, variants, visitor)
            });
        }
        let exact = variants.iter().find(|v| **v == text);
        let found = exact.or_else(|| {
            let mut like = variants.iter().filter(|v| v.eq_ignore_ascii_case(text));
            like.next().filter(|_| like.next().is_none())
        });
        match found {
            Some(variant) => {
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(*variant))
            }
            None => {
                let names: Vec<String> = variants.iter().map(|v| format!("{v:?}")).collect();
                Err(DeError::Invalid(format!(
                    "is not one of {}",
                    names.join(", ")
                )))
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// The items of a comma-separated list.
struct Items<'de> {
    items: Option<std::str::Split<'de, char>>,
    index: usize,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.as_mut().and_then(Iterator::next) else {
            return Ok(None);
        };
        self.index += 1;
        let item = item.trim();
        match seed.deserialize(Text(item)) {
            Ok(value) => Ok(Some(value)),
            Err(err) => Err(match err.reason() {
                Some(reason) => DeError::Invalid(format!(
                    "is not a valid list: item {} ({item:?}) {reason}",
                    self.index
                )),
                None => err,
            }),
        }
    }
}
