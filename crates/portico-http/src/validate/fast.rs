//! The fast path for string inputs: a serde `Deserializer` straight over the request's strings
//! (query pairs, headers, cookies, form fields, path parameters), with no JSON value built in
//! between.
//!
//! It only ever says "this deserialises" or "ask the checker": any failure (a missing field, a
//! value that does not parse) is [`Miss`], and the caller then runs the full checker, which
//! finds every error with its location. Strings are read exactly as the checker reads them
//! (the same integer, number and boolean parsing), so a value takes the same meaning on both
//! paths. Types with constraints beyond their Rust type never come here.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use super::check::parse_bool;
use super::shape::{Prop, Shape, Shapes};

/// Named string inputs, as a request carries them.
pub(crate) trait Inputs {
    /// Every value given for `name`, in order.
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str>;

    /// The last value given for `name` (the one a single-valued field takes).
    fn last<'s>(&'s self, name: &str) -> Option<&'s str> {
        self.values(name).last()
    }

    /// Every name given, once each, in order: what a model that forbids extra inputs
    /// (`#[serde(deny_unknown_fields)]`, Pydantic's `extra="forbid"`) checks. Empty for a
    /// source that cannot list its names.
    fn names(&self) -> Vec<std::borrow::Cow<'_, str>> {
        Vec::new()
    }

    /// Every input as received: each name as sent, once, with all its values. What a
    /// parameter model missing a field reports among its input, as FastAPI does; empty for a
    /// source that does not list them.
    fn received(&self) -> Vec<(std::borrow::Cow<'_, str>, Vec<&str>)> {
        Vec::new()
    }

    /// Whether `received`, a name as sent, is what the field `field` reads.
    fn reads(&self, field: &str, received: &str) -> bool {
        field == received
    }
}

/// "Ask the checker": the input does not deserialise as it is.
#[derive(Debug)]
pub(crate) struct Miss;

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the input needs the full checker")
    }
}

impl std::error::Error for Miss {}

impl de::Error for Miss {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Miss
    }
}

/// The fields of the root object of `shapes`, read from `inputs`.
pub(crate) struct Fields<'a, I> {
    pub(crate) shapes: &'a Shapes,
    pub(crate) inputs: &'a I,
}

impl<'de, I: Inputs> Deserializer<'de> for Fields<'_, I> {
    type Error = Miss;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        let Shape::Object { props, .. } = self.shapes.get(self.shapes.root) else {
            return Err(Miss);
        };
        visitor.visit_map(FieldAccess {
            shapes: self.shapes,
            inputs: self.inputs,
            props,
            next: 0,
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The value of one field: a single string, or all of them for a list.
enum Field<'s> {
    One(&'s str),
    Many(Vec<&'s str>),
}

struct FieldAccess<'a, 's, I> {
    shapes: &'a Shapes,
    inputs: &'s I,
    props: &'a [Prop],
    next: usize,
    value: Option<Field<'s>>,
}

impl<'de, I: Inputs> MapAccess<'de> for FieldAccess<'_, '_, I> {
    type Error = Miss;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Miss> {
        while let Some(prop) = self.props.get(self.next) {
            self.next += 1;
            let mut shape = self.shapes.get(prop.shape);
            if let Shape::Nullable(inner) = shape {
                shape = self.shapes.get(*inner);
            }
            let value = match shape {
                Shape::Array { .. } => {
                    let values: Vec<&str> = self.inputs.values(&prop.name).collect();
                    (!values.is_empty()).then_some(Field::Many(values))
                }
                _ => self.inputs.last(&prop.name).map(Field::One),
            };
            if let Some(value) = value {
                self.value = Some(value);
                let key: de::value::StrDeserializer<'_, Miss> =
                    prop.name.as_str().into_deserializer();
                return seed.deserialize(key).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Miss> {
        match self.value.take() {
            Some(Field::One(text)) => seed.deserialize(Text(text)),
            Some(Field::Many(values)) => seed.deserialize(Many(values)),
            None => Err(Miss),
        }
    }
}

/// One string, read as whatever the target type asks for.
pub(crate) struct Text<'s>(pub(crate) &'s str);

macro_rules! parse_int {
    ($($method:ident => $visit:ident as $ty:ty;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
                match self.0.trim().parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(Miss),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Text<'_> {
    type Error = Miss;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        visitor.visit_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        match parse_bool(self.0) {
            Some(b) => visitor.visit_bool(b),
            None => Err(Miss),
        }
    }

    parse_int! {
        deserialize_i8 => visit_i64 as i64;
        deserialize_i16 => visit_i64 as i64;
        deserialize_i32 => visit_i64 as i64;
        deserialize_i64 => visit_i64 as i64;
        deserialize_u8 => visit_u64 as u64;
        deserialize_u16 => visit_u64 as u64;
        deserialize_u32 => visit_u64 as u64;
        deserialize_u64 => visit_u64 as u64;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        match self.0.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => visitor.visit_f64(f),
            _ => Err(Miss),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Miss> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Miss> {
        let text: de::value::StrDeserializer<'_, Miss> = self.0.into_deserializer();
        visitor.visit_enum(text)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string identifier
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _visitor: V,
    ) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Miss> {
        Err(Miss)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Miss> {
        Err(Miss)
    }
}

/// Several strings, read as a list (or a tuple) of values.
pub(crate) struct Many<'s>(pub(crate) Vec<&'s str>);

impl<'de> Deserializer<'de> for Many<'_> {
    type Error = Miss;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        visitor.visit_seq(Items(self.0.into_iter()))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Miss> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Miss> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Miss> {
        if self.0.len() == len {
            self.deserialize_any(visitor)
        } else {
            Err(Miss)
        }
    }

    // Anything else than a list sees a list, and refuses it.
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple_struct map struct enum identifier ignored_any
    }
}

struct Items<'s>(std::vec::IntoIter<&'s str>);

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = Miss;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Miss> {
        match self.0.next() {
            Some(text) => seed.deserialize(Text(text)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}
