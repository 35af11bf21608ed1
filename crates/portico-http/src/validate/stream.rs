//! A JSON body read in one pass: serde reads the bytes straight into the handler's type, and
//! every value it reads inside a constrained part of that type is held, as it passes, to the
//! shape the [`Checker`](super::Checker) would hold it to.
//!
//! It only ever says "here is the value, and it is valid" or "ask the checker". A value that
//! breaks a constraint, a value the checker would convert (Pydantic's lax mode: `"5"` for an
//! integer), a part of the type it cannot follow (a union with constraints inside) and any
//! serde error all end the pass, and the caller parses the body again for the checker, which
//! finds every error with its location. So a valid body is parsed once and builds no
//! `serde_json::Value`; only an invalid one is read twice. Parts of the type without
//! constraints are not looked at: serde alone decides them, as it decides a type without
//! constraints at all.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    Visitor,
};

use super::check::string_holds;
use super::shape::{Extra, Prop, Shape, ShapeId, Shapes};

/// `bytes` as a `T` when they are one JSON document that deserialises and breaks no
/// constraint of `shapes` (`T`'s); `None` when the checker must look.
pub(crate) fn from_slice<T: DeserializeOwned>(shapes: &Shapes, bytes: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match At::new(shapes, shapes.root) {
        None => T::deserialize(&mut de),
        Some(at) => T::deserialize(Checked { de: &mut de, at }),
    }
    .ok()?;
    de.end().ok()?;
    Some(value)
}

/// The error that ends the pass: its text is never shown, the checker's errors are.
fn refuse<E: de::Error>() -> E {
    E::custom("the body needs the full checker")
}

/// The shape the value read at some place must have; made only for a constrained shape.
#[derive(Clone, Copy)]
struct At<'s> {
    shapes: &'s Shapes,
    id: ShapeId,
}

impl<'s> At<'s> {
    fn new(shapes: &'s Shapes, id: ShapeId) -> Option<Self> {
        let constrained = shapes.constrained.get(id).copied().unwrap_or(false);
        constrained.then_some(At { shapes, id })
    }

    /// The shape a value other than `null` is held to, through references, nullables and
    /// an `allOf` of one part.
    fn shape(self) -> &'s Shape {
        let mut id = self.id;
        // References are followed by `Shapes::get`; the rest nests at most a few levels.
        for _ in 0..64 {
            match self.shapes.get(id) {
                Shape::Nullable(inner) => id = *inner,
                Shape::AllOf(parts) if parts.len() == 1 => id = parts[0],
                shape => return shape,
            }
        }
        &Shape::Never
    }

    /// Whether `null` is valid here, unchanged.
    fn null(self) -> bool {
        let mut id = self.id;
        for _ in 0..64 {
            match self.shapes.get(id) {
                Shape::Nullable(_) | Shape::Null | Shape::Any => return true,
                Shape::AllOf(parts) if parts.len() == 1 => id = parts[0],
                _ => return false,
            }
        }
        false
    }

    fn bool(self) -> bool {
        matches!(self.shape(), Shape::Bool | Shape::Any)
    }

    /// Whether the number `n` is valid here, unchanged: an integral one for an integer.
    fn number(self, n: f64, integral: bool) -> bool {
        match self.shape() {
            Shape::Integer(bounds) => integral && bounds.broken(n).is_none(),
            Shape::Number(bounds) => bounds.broken(n).is_none(),
            Shape::Any => true,
            _ => false,
        }
    }

    fn string(self, text: &str) -> bool {
        match self.shape() {
            Shape::String(rules) => string_holds(rules, text),
            Shape::Any => true,
            _ => false,
        }
    }
}

/// A deserializer whose values are checked against a shape as they are read.
struct Checked<'s, D> {
    de: D,
    at: At<'s>,
}

/// Forwards every `deserialize_*` method but `deserialize_ignored_any` to the wrapped
/// deserializer, with the visitor wrapped in `$visit { inner, $field }`.
macro_rules! forward_deserialize {
    ($visit:ident, $field:ident) => {
        forward_deserialize!(@ $visit, $field,
            deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(),
            deserialize_i32(), deserialize_i64(), deserialize_i128(), deserialize_u8(),
            deserialize_u16(), deserialize_u32(), deserialize_u64(), deserialize_u128(),
            deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(),
            deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
            deserialize_option(), deserialize_unit(), deserialize_unit_struct(name: &'static str),
            deserialize_newtype_struct(name: &'static str), deserialize_seq(),
            deserialize_tuple(len: usize), deserialize_tuple_struct(name: &'static str, len: usize),
            deserialize_map(),
            deserialize_struct(name: &'static str, fields: &'static [&'static str]),
            deserialize_enum(name: &'static str, variants: &'static [&'static str]),
            deserialize_identifier(),
        );
    };
    (@ $visit:ident, $field:ident, $($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(
            self,
            $($arg: $ty,)*
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.de.$method($($arg,)* $visit { inner: visitor, $field: self.$field })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Checked<'_, D> {
    type Error = D::Error;

    forward_deserialize!(Visit, at);

    /// A value the type skips is still read, for what the shape says of it.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(Visit {
            inner: visitor,
            at: self.at,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// A seed whose value is read through [`Checked`].
struct Seed<'s, T> {
    seed: T,
    at: At<'s>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<T::Value, D::Error> {
        self.seed.deserialize(Checked { de, at: self.at })
    }
}

/// A visitor that checks each value before the type's own visitor takes it.
struct Visit<'s, V> {
    inner: V,
    at: At<'s>,
}

/// `visit_*` methods that check a scalar, then hand it on.
macro_rules! visit_scalars {
    ($($method:ident($ty:ty) => |$at:ident, $v:ident| $check:expr;)*) => {$(
        fn $method<E: de::Error>(self, $v: $ty) -> Result<V::Value, E> {
            let $at = self.at;
            if $check { self.inner.$method($v) } else { Err(refuse()) }
        }
    )*};
}

#[allow(
    clippy::cast_precision_loss,
    reason = "the checker compares numbers as f64 too (serde_json's `as_f64`)"
)]
impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit_scalars! {
        visit_bool(bool) => |at, v| at.bool();
        visit_i8(i8) => |at, v| at.number(f64::from(v), true);
        visit_i16(i16) => |at, v| at.number(f64::from(v), true);
        visit_i32(i32) => |at, v| at.number(f64::from(v), true);
        visit_i64(i64) => |at, v| at.number(v as f64, true);
        visit_i128(i128) => |at, v| at.number(v as f64, true);
        visit_u8(u8) => |at, v| at.number(f64::from(v), true);
        visit_u16(u16) => |at, v| at.number(f64::from(v), true);
        visit_u32(u32) => |at, v| at.number(f64::from(v), true);
        visit_u64(u64) => |at, v| at.number(v as f64, true);
        visit_u128(u128) => |at, v| at.number(v as f64, true);
        visit_f32(f32) => |at, v| at.number(f64::from(v), false);
        visit_f64(f64) => |at, v| at.number(v, false);
        visit_char(char) => |at, v| at.string(v.encode_utf8(&mut [0; 4]));
        visit_str(&str) => |at, v| at.string(v);
        visit_borrowed_str(&'de str) => |at, v| at.string(v);
        visit_string(String) => |at, v| at.string(&v);
        visit_bytes(&[u8]) => |at, v| std::str::from_utf8(v).is_ok_and(|t| at.string(t));
        visit_borrowed_bytes(&'de [u8]) => |at, v| std::str::from_utf8(v).is_ok_and(|t| at.string(t));
        visit_byte_buf(Vec<u8>) => |at, v| std::str::from_utf8(&v).is_ok_and(|t| at.string(t));
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        if self.at.null() {
            self.inner.visit_none()
        } else {
            Err(refuse())
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        if self.at.null() {
            self.inner.visit_unit()
        } else {
            Err(refuse())
        }
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        // What is inside is not null: `At::shape` looks through the nullable.
        self.inner.visit_some(Checked { de, at: self.at })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Checked { de, at: self.at })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let Shape::Array {
            items,
            prefix,
            min_items,
            max_items,
        } = self.at.shape()
        else {
            return Err(refuse());
        };
        let mut elements = Elements {
            seq,
            shapes: self.at.shapes,
            items: *items,
            prefix,
            read: 0,
        };
        let value = self.inner.visit_seq(&mut elements)?;
        // serde_json refuses a list its visitor left unfinished, so `read` is its length.
        let read = elements.read;
        if min_items.is_some_and(|min| read < min) || max_items.is_some_and(|max| read > max) {
            return Err(refuse());
        }
        Ok(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let Shape::Object { props, extra } = self.at.shape() else {
            return Err(refuse());
        };
        // Integer keys are read as numbers, out of sight; a model that large is rare.
        if matches!(extra, Extra::IntegerKeys(_)) || props.len() > 128 {
            return Err(refuse());
        }
        let mut entries = Entries {
            map,
            shapes: self.at.shapes,
            props,
            extra,
            seen: 0,
            value: None,
        };
        let value = self.inner.visit_map(&mut entries)?;
        let seen = entries.seen;
        let missing = props
            .iter()
            .enumerate()
            .any(|(i, prop)| prop.required && seen & (1 << i) == 0);
        if missing {
            return Err(refuse());
        }
        Ok(value)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<V::Value, A::Error> {
        // An enum with constraints inside is a union to the checker: it decides.
        Err(refuse())
    }
}

/// A list's elements, each checked against its place's shape, counted.
struct Elements<'s, A> {
    seq: A,
    shapes: &'s Shapes,
    items: Option<ShapeId>,
    prefix: &'s [ShapeId],
    read: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Elements<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let shape = self.prefix.get(self.read).copied().or(self.items);
        let at = shape.and_then(|id| At::new(self.shapes, id));
        let seq = &mut self.seq;
        let element = match at {
            Some(at) => seq.next_element_seed(Seed { seed, at })?,
            None => seq.next_element_seed(seed)?,
        };
        if element.is_some() {
            self.read += 1;
        }
        Ok(element)
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// An object's entries: each key looked up among the shape's properties, each value checked
/// against the shape the key gives it, the properties seen remembered.
struct Entries<'s, A> {
    map: A,
    shapes: &'s Shapes,
    props: &'s [Prop],
    extra: &'s Extra,
    /// Bit `i`: property `i` was given.
    seen: u128,
    /// The shape of the value after the key just read, when it is constrained.
    value: Option<At<'s>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Entries<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let found = Cell::new(Key::Unread);
        let lookup = Lookup {
            props: self.props,
            found: &found,
        };
        let Some(key) = self.map.next_key_seed(KeySeed { seed, lookup })? else {
            return Ok(None);
        };
        self.value = match found.get() {
            Key::Prop(i) => {
                self.seen |= 1 << i;
                At::new(self.shapes, self.props[i].shape)
            }
            Key::Extra => match self.extra {
                Extra::Allow => None,
                Extra::Shape(id) => At::new(self.shapes, *id),
                Extra::Forbid | Extra::IntegerKeys(_) => return Err(refuse()),
            },
            Key::Unread => return Err(refuse()),
        };
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(at) => self.map.next_value_seed(Seed { seed, at }),
            None => self.map.next_value_seed(seed),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// What a key turned out to be.
#[derive(Clone, Copy)]
enum Key {
    /// Not read as a string (a number, say): the checker decides.
    Unread,
    /// The property at this index.
    Prop(usize),
    /// A key the shape does not declare.
    Extra,
}

/// Where a key's text is looked up, and where the finding goes.
#[derive(Clone, Copy)]
struct Lookup<'s, 'k> {
    props: &'s [Prop],
    found: &'k Cell<Key>,
}

impl Lookup<'_, '_> {
    fn record(self, key: &str) {
        self.found
            .set(match self.props.iter().position(|prop| prop.name == key) {
                Some(i) => Key::Prop(i),
                None => Key::Extra,
            });
    }
}

/// The seed of a key, read through [`KeyDe`].
struct KeySeed<'s, 'k, K> {
    seed: K,
    lookup: Lookup<'s, 'k>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, '_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDe {
            de,
            lookup: self.lookup,
        })
    }
}

/// A key's deserializer: its text is looked up as it passes.
struct KeyDe<'s, 'k, D> {
    de: D,
    lookup: Lookup<'s, 'k>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, '_, D> {
    type Error = D::Error;

    forward_deserialize!(KeyVisit, lookup);

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// A key's visitor: records a text key, hands everything on.
struct KeyVisit<'s, 'k, V> {
    inner: V,
    lookup: Lookup<'s, 'k>,
}

/// `visit_*` methods handed on as they are.
macro_rules! visit_forward {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisit<'_, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.lookup.record(v);
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.lookup.record(v);
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.lookup.record(&v);
        self.inner.visit_string(v)
    }

    visit_forward!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(de)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(de)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(map)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}
