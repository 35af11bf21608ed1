//! Settings read by serde: a struct's fields looked up among the variables, each value read
//! from its text by the type its field asks for, and every problem collected.
//!
//! serde's derived code stops at the first error. So reading goes in passes: a pass that meets
//! a problem records it, marks that variable to be replaced by a stand-in ([`Dummy`]) and
//! starts again, and the next pass goes past it. Settings with n problems are read about
//! n + 1 times, once, at start-up.
//!
//! A type that refuses the stand-in (a `NonZeroU32`, a newtype that validates its string) is
//! left out of the next pass instead; the other values are all still read, but serde then
//! reports it missing before any field declared after it, so a missing field after it may go
//! unreported. Nothing is ever reported that is not wrong.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};

use super::dummy::Dummy;
use super::source::{Var, Vars};
use super::text::{Text, is_duration};
use super::{Problem, SettingsError};

/// Every pass replaces at least one more variable than the one before, so passes are bounded
/// by the number of fields; this cap only guards against a `Deserialize` impl that keeps
/// asking for something else. 4096 is arbitrary.
const MAX_PASSES: usize = 4096;

/// How reading a value failed.
#[derive(Debug)]
pub(crate) enum DeError {
    /// The text does not parse as the type; the phrase says why ("is not a valid u32 ...").
    Invalid(String),
    /// A message from serde or from a type's own `Deserialize`.
    Custom(String),
    /// The derived code found a field missing.
    MissingField(&'static str),
    /// A problem was recorded; the pass starts again with the variable replaced.
    Restart,
    /// No way on: the problems recorded so far are all there is to say.
    Stuck,
}

impl DeError {
    /// What is wrong with a value, as a phrase that follows it; `None` for the signals.
    pub(crate) fn reason(&self) -> Option<String> {
        match self {
            DeError::Invalid(reason) => Some(reason.clone()),
            DeError::Custom(msg) => Some(format!("is invalid: {msg}")),
            DeError::MissingField(field) => Some(format!("is invalid: missing field `{field}`")),
            DeError::Restart | DeError::Stuck => None,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(reason) => f.write_str(&reason),
            None => f.write_str("the settings could not be read"),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::Custom(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::MissingField(field)
    }
}

/// Reads `T` from `vars`, after `problems` (those of the env files).
pub(crate) fn read<T: DeserializeOwned>(
    vars: &Vars,
    prefix: &str,
    delimiter: Option<&str>,
    mut problems: Vec<Problem>,
) -> Result<T, SettingsError> {
    let ctx = Ctx {
        vars,
        prefix: prefix.to_lowercase(),
        delimiter: delimiter.map(str::to_lowercase),
        found: RefCell::default(),
    };
    let mut value = None;
    for _ in 0..MAX_PASSES {
        let changes = ctx.found.borrow().changes;
        match T::deserialize(Root { ctx: &ctx }) {
            Ok(read) => {
                value = Some(read);
                break;
            }
            Err(DeError::Restart) if ctx.found.borrow().changes > changes => {}
            Err(err) => {
                let message = match err {
                    DeError::Custom(msg) => Some(msg),
                    DeError::MissingField(field) => Some(format!(
                        "{}{} is missing",
                        ctx.prefix.to_uppercase(),
                        field.to_uppercase()
                    )),
                    DeError::Invalid(reason) => Some(format!("the settings {reason}")),
                    DeError::Restart | DeError::Stuck => None,
                };
                if let Some(message) = message {
                    ctx.note(&ctx.root(), Problem::Other { message });
                }
                break;
            }
        }
    }
    let mut found = ctx.found.into_inner().problems;
    found.sort_by(|a, b| a.0.cmp(&b.0));
    problems.extend(found.into_iter().map(|(_, problem)| problem));
    match value {
        Some(value) if problems.is_empty() => Ok(value),
        _ => {
            if problems.is_empty() {
                problems.push(Problem::Other {
                    message: "the settings could not be read".into(),
                });
            }
            Err(SettingsError::new(problems))
        }
    }
}

/// What every pass reads from, and what the passes so far have found.
struct Ctx<'v> {
    vars: &'v Vars,
    /// Lower case, as the variables' keys.
    prefix: String,
    delimiter: Option<String>,
    found: RefCell<Found>,
}

#[derive(Default)]
struct Found {
    /// With the place of their field, to list them in the order of the fields.
    problems: Vec<(Vec<usize>, Problem)>,
    /// The keys with a problem recorded (a later pass meets them again).
    noted: HashSet<String>,
    replaced: HashMap<String, Replace>,
    /// How many times `replaced` changed: a pass that changed nothing cannot make progress.
    changes: usize,
}

/// What a variable is replaced with in later passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replace {
    /// A stand-in: its problem is recorded.
    Dummy,
    /// Nothing: its problem is recorded, and its type refused the stand-in.
    Skip,
    /// Nothing: the field is missing (a nested struct's own fields are then looked up, each
    /// missing one recorded).
    Unset,
}

/// The place of a value: its variable's key, and the indexes of its field and of the fields
/// around it.
#[derive(Debug, Clone)]
struct At {
    key: String,
    pos: Vec<usize>,
}

/// What a field's value is read from.
enum Slot<'v> {
    Var(&'v Var),
    /// No variable of its own, but variables under its name and the delimiter.
    Nested,
    Replaced(Replace),
}

impl<'v> Ctx<'v> {
    fn root(&self) -> At {
        At {
            key: self.prefix.clone(),
            pos: Vec::new(),
        }
    }

    fn child(&self, at: &At, name: &str, index: usize) -> At {
        let name = name.to_lowercase();
        let key = match (&self.delimiter, at.pos.is_empty()) {
            (Some(delimiter), false) => format!("{}{delimiter}{name}", at.key),
            _ => format!("{}{name}", at.key),
        };
        let mut pos = at.pos.clone();
        pos.push(index);
        At { key, pos }
    }

    fn slot(&self, at: &At) -> Option<Slot<'v>> {
        match self.found.borrow().replaced.get(&at.key) {
            Some(Replace::Skip) => return None,
            Some(replace) => return Some(Slot::Replaced(*replace)),
            None => {}
        }
        if let Some(var) = self.vars.get(&at.key) {
            return Some(Slot::Var(var));
        }
        match &self.delimiter {
            Some(delimiter) if self.vars.any_under(&format!("{}{delimiter}", at.key)) => {
                Some(Slot::Nested)
            }
            _ => None,
        }
    }

    /// Records `problem` at `at`, unless one is there already.
    fn note(&self, at: &At, problem: Problem) {
        let mut found = self.found.borrow_mut();
        if found.noted.insert(at.key.clone()) {
            found.problems.push((at.pos.clone(), problem));
        }
    }

    fn replace(&self, at: &At, with: Replace) {
        let mut found = self.found.borrow_mut();
        if found.replaced.insert(at.key.clone(), with) != Some(with) {
            found.changes += 1;
        }
    }

    /// The stand-in for `at` was refused: leave it out of the next pass.
    fn refused(&self, at: &At) -> DeError {
        self.replace(at, Replace::Skip);
        DeError::Restart
    }

    fn is_skipped(&self, at: &At) -> bool {
        self.found.borrow().replaced.get(&at.key) == Some(&Replace::Skip)
    }

    fn missing(&self, at: &At) {
        let name = at.key.to_uppercase();
        self.note(at, Problem::Missing { name });
    }

    /// Reads the value at `at` from `slot`.
    fn value<S: DeserializeSeed<'v>>(
        &self,
        at: &At,
        slot: Slot<'v>,
        seed: S,
    ) -> Result<S::Value, DeError> {
        let var = match slot {
            Slot::Var(var) => var,
            Slot::Replaced(Replace::Dummy) => {
                return seed.deserialize(Dummy).map_err(|_| self.refused(at));
            }
            // Never yielded (see `slot`).
            Slot::Replaced(Replace::Skip) => return Err(DeError::Stuck),
            Slot::Replaced(Replace::Unset) | Slot::Nested => {
                let nested = matches!(slot, Slot::Nested);
                let unset = Unset {
                    ctx: self,
                    at: at.clone(),
                    nested,
                };
                return seed.deserialize(unset).map_err(|err| {
                    // A nested struct's own check failed.
                    let Some(reason) = err.reason() else {
                        return err;
                    };
                    let message = format!("{} {reason}", at.key.to_uppercase());
                    self.note(at, Problem::Other { message });
                    self.replace(at, Replace::Dummy);
                    DeError::Restart
                });
            }
        };
        let invalid = |value: &str, reason: String| {
            let problem = Problem::Invalid {
                name: var.name.clone(),
                value: value.to_owned(),
                reason,
            };
            self.note(at, problem);
            self.replace(at, Replace::Dummy);
            DeError::Restart
        };
        match &var.value {
            Ok(text) => seed
                .deserialize(Text(text))
                .map_err(|err| match err.reason() {
                    Some(reason) => invalid(text, reason),
                    None => err,
                }),
            Err(lossy) => Err(invalid(lossy, "is not valid UTF-8".into())),
        }
    }

    /// Reads the struct at `at` field by field.
    fn read_struct<V: Visitor<'v>>(
        &self,
        at: &At,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let access = Fields {
            ctx: self,
            at,
            fields,
            next: 0,
            current: None,
        };
        visitor.visit_map(access).map_err(|err| match err {
            DeError::MissingField(name) => {
                let Some(index) = fields.iter().position(|f| *f == name) else {
                    // Not a field serde told us of (`flatten`): nothing to replace it with.
                    self.missing(&self.child(at, name, fields.len()));
                    return DeError::Stuck;
                };
                let child = self.child(at, name, index);
                if self.is_skipped(&child) {
                    // Left out on purpose: serde cannot go past it to the fields after it.
                    return DeError::Stuck;
                }
                self.replace(&child, Replace::Unset);
                DeError::Restart
            }
            other => other,
        })
    }

    /// Reads a map from the variables under `at`'s key (and the delimiter, below the top).
    fn read_map<V: Visitor<'v>>(&self, at: &At, visitor: V) -> Result<V::Value, DeError> {
        let base = match (&self.delimiter, at.pos.is_empty()) {
            (Some(delimiter), false) => format!("{}{delimiter}", at.key),
            _ => at.key.clone(),
        };
        let entries: Vec<(String, At)> = self
            .vars
            .under(&base)
            .enumerate()
            .map(|(i, (rest, _))| {
                let mut pos = at.pos.clone();
                pos.push(i);
                let key = format!("{base}{rest}");
                (rest.to_owned(), At { key, pos })
            })
            .filter(|(_, at)| !self.is_skipped(at))
            .collect();
        visitor.visit_map(Entries {
            ctx: self,
            entries: entries.into_iter(),
            current: None,
        })
    }
}

/// The top: a struct (or a map) read from the variables under the prefix.
struct Root<'a, 'v> {
    ctx: &'a Ctx<'v>,
}

impl<'v> de::Deserializer<'v> for Root<'_, 'v> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.ctx.read_map(&self.ctx.root(), visitor)
    }

    fn deserialize_struct<V: Visitor<'v>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.ctx.read_struct(&self.ctx.root(), fields, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'v>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_option<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'v>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// A struct's fields, each looked up by name.
struct Fields<'a, 'v> {
    ctx: &'a Ctx<'v>,
    at: &'a At,
    fields: &'static [&'static str],
    next: usize,
    current: Option<(At, Slot<'v>)>,
}

impl<'v> MapAccess<'v> for Fields<'_, 'v> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'v>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some(name) = self.fields.get(self.next) {
            let at = self.ctx.child(self.at, name, self.next);
            self.next += 1;
            if let Some(slot) = self.ctx.slot(&at) {
                self.current = Some((at, slot));
                let key = IntoDeserializer::<DeError>::into_deserializer(*name);
                return seed.deserialize(key).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'v>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let (at, slot) = self.current.take().ok_or(DeError::Stuck)?;
        self.ctx.value(&at, slot, seed)
    }
}

/// A map's entries: every variable under a key.
struct Entries<'a, 'v> {
    ctx: &'a Ctx<'v>,
    entries: std::vec::IntoIter<(String, At)>,
    current: Option<At>,
}

impl<'v> MapAccess<'v> for Entries<'_, 'v> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'v>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((name, at)) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(at);
        seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(name))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'v>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let at = self.current.take().ok_or(DeError::Stuck)?;
        let slot = self.ctx.slot(&at).ok_or(DeError::Stuck)?;
        self.ctx.value(&at, slot, seed)
    }
}

/// A field with no variable of its own: a nested struct read from the variables under its
/// name and the delimiter, `None` for an option, and otherwise missing.
struct Unset<'a, 'v> {
    ctx: &'a Ctx<'v>,
    at: At,
    /// Whether there are variables under its name (then an option is `Some`).
    nested: bool,
}

impl Unset<'_, '_> {
    /// Records the field as missing, and goes on with a stand-in.
    fn missing(&self) -> Dummy {
        self.ctx.missing(&self.at);
        Dummy
    }
}

macro_rules! missing {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, DeError> {
            let dummy = self.missing();
            de::Deserializer::$method(dummy, visitor).map_err(|_| self.ctx.refused(&self.at))
        }
    )*};
}

impl<'v> de::Deserializer<'v> for Unset<'_, 'v> {
    type Error = DeError;

    missing! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_unit deserialize_seq
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_option<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.nested {
            visitor.visit_some(self)
        } else {
            visitor.visit_none()
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'v>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if self.ctx.delimiter.is_some() && !is_duration(name, fields) {
            return self.ctx.read_struct(&self.at, fields, visitor);
        }
        de::Deserializer::deserialize_struct(self.missing(), name, fields, visitor)
            .map_err(|_| self.ctx.refused(&self.at))
    }

    fn deserialize_map<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.nested {
            return self.ctx.read_map(&self.at, visitor);
        }
        de::Deserializer::deserialize_map(self.missing(), visitor)
            .map_err(|_| self.ctx.refused(&self.at))
    }

    fn deserialize_unit_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_unit_struct(self.missing(), name, visitor)
            .map_err(|_| self.ctx.refused(&self.at))
    }

    fn deserialize_tuple<V: Visitor<'v>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_tuple(self.missing(), len, visitor)
            .map_err(|_| self.ctx.refused(&self.at))
    }

    fn deserialize_tuple_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_tuple_struct(self.missing(), name, len, visitor)
            .map_err(|_| self.ctx.refused(&self.at))
    }

    fn deserialize_enum<V: Visitor<'v>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_enum(self.missing(), name, variants, visitor)
            .map_err(|_| self.ctx.refused(&self.at))
    }
}
