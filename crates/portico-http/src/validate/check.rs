//! Checking a JSON value against a compiled shape: every error, with its location, in
//! Pydantic's vocabulary; lax conversions (a string that holds a number, say) are applied in
//! place, as Pydantic's lax mode does.

use serde_json::{Map, Number, Value, json};

use super::shape::{Bound, Extra, NumBounds, Shape, ShapeId, Shapes, StrRules};
use super::temporal::{self, Reading};
use crate::error::{ErrorItem, LocPart};

/// Where the value came from, which decides a few details of the errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A JSON document: a missing field reports the enclosing object as its input.
    Json,
    /// Strings from a query, path, headers, cookies or a form: a missing field reports `null`.
    Params,
}

pub(crate) struct Checker<'a> {
    shapes: &'a Shapes,
    origin: Origin,
    loc: Vec<LocPart>,
    errors: Vec<ErrorItem>,
    /// What a parameter model missing a field reports as its input, when it is not the
    /// object checked (see [`model_input`](crate::validate::model_input)).
    model_input: Option<Value>,
}

/// A number as JSON would write it: integral values without a fraction.
fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// The text Pydantic uses for a number in messages (`10`, `2.5`).
fn number_text(n: f64) -> String {
    match number_value(n) {
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Pydantic's lax reading of a boolean from a string.
/// Why `text` is not an absolute URL, in the words of the `url` crate that Pydantic's URL
/// types use: it must start with a scheme (`https:`, `mailto:`). Only the scheme is checked
/// here (the rest of a URL is accepted as written); the `url` crate would check it all, at the
/// price of an IDNA table in every build.
fn url_error(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        return Some("input is empty");
    }
    let scheme = text.trim_start().split(':').next().unwrap_or_default();
    let valid = text.trim_start().len() > scheme.len()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (!valid).then_some("relative URL without a base")
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 6] = ["true", "1", "yes", "on", "t", "y"];
    const FALSE: [&str; 6] = ["false", "0", "no", "off", "f", "n"];
    let text = text.trim();
    if TRUE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn new(shapes: &'a Shapes, origin: Origin, loc: Vec<LocPart>) -> Self {
        Checker {
            shapes,
            origin,
            loc,
            errors: Vec::new(),
            model_input: None,
        }
    }

    /// Reports `input` as the input of the root model when it misses a field.
    pub(crate) fn with_model_input(mut self, input: Option<Value>) -> Self {
        self.model_input = input;
        self
    }

    pub(crate) fn into_errors(self) -> Vec<ErrorItem> {
        self.errors
    }

    fn error(
        &mut self,
        kind: &'static str,
        msg: impl Into<String>,
        input: &Value,
    ) -> &mut ErrorItem {
        self.errors
            .push(ErrorItem::new(kind, self.loc.clone(), msg, input.clone()));
        let last = self.errors.len() - 1;
        &mut self.errors[last]
    }

    /// Checks `value` against the root shape.
    pub(crate) fn check_root(&mut self, value: &mut Value) {
        let root = self.shapes.root;
        self.check(root, value);
    }

    pub(crate) fn check(&mut self, id: ShapeId, value: &mut Value) {
        match self.shapes.get(id) {
            Shape::Any => {}
            Shape::Never => {
                self.error("never", "No value is allowed here", value);
            }
            Shape::Null => {
                if !value.is_null() {
                    self.error("none_required", "Input should be None", value);
                }
            }
            Shape::Bool => self.check_bool(value),
            Shape::Integer(bounds) => self.check_integer(bounds, value),
            Shape::Number(bounds) => self.check_number(bounds, value),
            Shape::String(rules) => self.check_string(rules, value),
            Shape::Const(expected) => {
                if value != expected {
                    let expected = expected.clone();
                    let text = literal(&expected);
                    self.error("literal_error", format!("Input should be {text}"), value)
                        .ctx = Some(json!({ "expected": text }));
                }
            }
            Shape::Enum { values, literal } => {
                if !values.contains(value) {
                    let expected = expected_list(values);
                    let kind = if *literal { "literal_error" } else { "enum" };
                    self.error(kind, format!("Input should be {expected}"), value)
                        .ctx = Some(json!({ "expected": expected }));
                }
            }
            Shape::Array {
                items,
                prefix,
                min_items,
                max_items,
            } => {
                let (items, prefix, min_items, max_items) =
                    (*items, prefix.clone(), *min_items, *max_items);
                self.check_array(items, &prefix, min_items, max_items, value);
            }
            Shape::Object { .. } => self.check_object(id, value),
            Shape::Nullable(inner) => {
                if !value.is_null() {
                    let inner = *inner;
                    self.check(inner, value);
                }
            }
            Shape::AnyOf(branches) => {
                let branches = branches.clone();
                self.check_any_of(&branches, value);
            }
            Shape::AllOf(parts) => {
                for part in parts.clone() {
                    self.check(part, value);
                }
            }
            Shape::Ref(_) => unreachable!("Shapes::get follows references"),
        }
    }

    fn check_bool(&mut self, value: &mut Value) {
        let parsed = match &*value {
            Value::Bool(_) => return,
            Value::String(text) => parse_bool(text),
            Value::Number(n) if n.as_u64() == Some(0) => Some(false),
            Value::Number(n) if n.as_u64() == Some(1) => Some(true),
            _ => None,
        };
        match parsed {
            Some(b) => *value = Value::Bool(b),
            None if value.is_string() => {
                self.error(
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                    value,
                );
            }
            None => {
                self.error("bool_type", "Input should be a valid boolean", value);
            }
        }
    }

    fn check_integer(&mut self, bounds: &NumBounds, value: &mut Value) {
        let as_number = match &*value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.is_finite() => Some(Number::from(f as i64)),
                _ => {
                    self.error(
                        "int_from_float",
                        "Input should be a valid integer, got a number with a fractional part",
                        value,
                    );
                    return;
                }
            },
            Value::String(text) => {
                let text = text.trim();
                match text.parse::<i64>() {
                    Ok(n) => Some(Number::from(n)),
                    Err(_) => match text.parse::<u64>() {
                        Ok(n) => Some(Number::from(n)),
                        Err(_) => {
                            self.error(
                                "int_parsing",
                                "Input should be a valid integer, unable to parse string as an integer",
                                value,
                            );
                            return;
                        }
                    },
                }
            }
            _ => {
                self.error("int_type", "Input should be a valid integer", value);
                return;
            }
        };
        if let Some(number) = as_number {
            let f = number.as_f64().unwrap_or(f64::NAN);
            self.check_bounds(bounds, f, value);
            *value = Value::Number(number);
        }
    }

    fn check_number(&mut self, bounds: &NumBounds, value: &mut Value) {
        let f = match &*value {
            Value::Number(n) => n.as_f64(),
            Value::String(text) => match text.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => {
                    self.check_bounds(bounds, f, value);
                    *value = number_value(f);
                    return;
                }
                _ => {
                    self.error(
                        "float_parsing",
                        "Input should be a valid number, unable to parse string as a number",
                        value,
                    );
                    return;
                }
            },
            _ => None,
        };
        match f {
            Some(f) => self.check_bounds(bounds, f, value),
            None => {
                self.error("float_type", "Input should be a valid number", value);
            }
        }
    }

    fn check_bounds(&mut self, bounds: &NumBounds, f: f64, input: &Value) {
        let Some((limit, bound)) = bounds.broken(f) else {
            return;
        };
        let text = number_text(limit);
        let (kind, key, message) = match bound {
            Bound::Gt => ("greater_than", "gt", format!("greater than {text}")),
            Bound::Ge => (
                "greater_than_equal",
                "ge",
                format!("greater than or equal to {text}"),
            ),
            Bound::Lt => ("less_than", "lt", format!("less than {text}")),
            Bound::Le => (
                "less_than_equal",
                "le",
                format!("less than or equal to {text}"),
            ),
            Bound::MultipleOf => (
                "multiple_of",
                "multiple_of",
                format!("a multiple of {text}"),
            ),
        };
        self.error(kind, format!("Input should be {message}"), input)
            .ctx = Some(json!({ key: number_value(limit) }));
    }

    fn check_string(&mut self, rules: &StrRules, value: &mut Value) {
        let Value::String(text) = &*value else {
            self.error("string_type", "Input should be a valid string", value);
            return;
        };
        if rules.url
            && let Some(reason) = url_error(text)
        {
            self.error(
                "url_parsing",
                format!("Input should be a valid URL, {reason}"),
                value,
            )
            .ctx = Some(json!({ "error": reason }));
            return;
        }
        if let Some(kind) = rules.temporal {
            match temporal::read(kind, text) {
                Reading::Valid => {}
                Reading::Becomes(text) => *value = Value::String(text),
                Reading::Invalid {
                    kind,
                    message,
                    reason,
                } => {
                    self.error(kind, message, value).ctx =
                        reason.map(|reason| json!({ "error": reason }));
                }
            }
            return;
        }
        let chars = text.chars().count();
        if let Some(min) = rules.min_length
            && chars < min
        {
            let plural = if min == 1 { "character" } else { "characters" };
            self.error(
                "string_too_short",
                format!("String should have at least {min} {plural}"),
                value,
            )
            .ctx = Some(json!({ "min_length": min }));
        }
        if let Some(max) = rules.max_length
            && chars > max
        {
            let plural = if max == 1 { "character" } else { "characters" };
            self.error(
                "string_too_long",
                format!("String should have at most {max} {plural}"),
                value,
            )
            .ctx = Some(json!({ "max_length": max }));
        }
        if let Some((pattern, regex)) = &rules.pattern
            && let Value::String(text) = &*value
            && !regex.is_match(text)
        {
            let pattern = pattern.clone();
            self.error(
                "string_pattern_mismatch",
                format!("String should match pattern '{pattern}'"),
                value,
            )
            .ctx = Some(json!({ "pattern": pattern }));
        }
    }

    fn check_array(
        &mut self,
        items: Option<ShapeId>,
        prefix: &[ShapeId],
        min_items: Option<usize>,
        max_items: Option<usize>,
        value: &mut Value,
    ) {
        let Value::Array(elements) = value else {
            let kind = if prefix.is_empty() {
                ("list_type", "Input should be a valid list")
            } else {
                ("tuple_type", "Input should be a valid tuple")
            };
            self.error(kind.0, kind.1, value);
            return;
        };
        let len = elements.len();
        for (index, element) in elements.iter_mut().enumerate() {
            let shape = prefix.get(index).copied().or(items);
            if let Some(shape) = shape {
                self.loc.push(LocPart::Index(index));
                self.check(shape, element);
                self.loc.pop();
            }
        }
        let field_type = if prefix.is_empty() { "List" } else { "Tuple" };
        if let Some(min) = min_items
            && len < min
        {
            let plural = if min == 1 { "item" } else { "items" };
            let input = value.clone();
            self.error(
                "too_short",
                format!(
                    "{field_type} should have at least {min} {plural} after validation, not {len}"
                ),
                &input,
            )
            .ctx =
                Some(json!({ "field_type": field_type, "min_length": min, "actual_length": len }));
        } else if let Some(max) = max_items
            && len > max
        {
            let plural = if max == 1 { "item" } else { "items" };
            let input = value.clone();
            self.error(
                "too_long",
                format!(
                    "{field_type} should have at most {max} {plural} after validation, not {len}"
                ),
                &input,
            )
            .ctx =
                Some(json!({ "field_type": field_type, "max_length": max, "actual_length": len }));
        }
    }

    fn check_object(&mut self, id: ShapeId, value: &mut Value) {
        let Shape::Object { props, extra } = self.shapes.get(id) else {
            unreachable!("an object shape")
        };
        let shapes = self.shapes;
        let Value::Object(map) = value else {
            if props.is_empty() {
                self.error("dict_type", "Input should be a valid dictionary", value);
            } else {
                self.error(
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from",
                    value,
                );
            }
            return;
        };
        // What a missing field reports as its input: the object as it came (taken before the
        // checks below convert its values), copied only when a required field is missing.
        let missing = props
            .iter()
            .any(|prop| prop.required && !map.contains_key(&prop.name));
        let missing_input = match self.origin {
            _ if !missing => Value::Null,
            Origin::Json => Value::Object(map.clone()),
            // A model's field reports the model's input; a single parameter, none.
            Origin::Params if shapes.model => self
                .model_input
                .take()
                .unwrap_or_else(|| Value::Object(map.clone())),
            Origin::Params => Value::Null,
        };
        for prop in props {
            match map.get_mut(&prop.name) {
                Some(field) => {
                    self.loc.push(LocPart::Key(prop.name.clone().into()));
                    self.check(prop.shape, field);
                    self.loc.pop();
                }
                None if prop.required => {
                    let mut loc = self.loc.clone();
                    loc.push(LocPart::Key(prop.name.clone().into()));
                    self.errors
                        .push(ErrorItem::missing(loc, missing_input.clone()));
                }
                None => {}
            }
        }
        match extra {
            Extra::Allow => {}
            Extra::Forbid => {
                let unknown: Vec<(String, Value)> = map
                    .iter()
                    .filter(|(key, _)| !props.iter().any(|p| &p.name == *key))
                    .map(|(key, v)| (key.clone(), v.clone()))
                    .collect();
                for (key, input) in unknown {
                    self.loc.push(LocPart::Key(key.into()));
                    self.error("extra_forbidden", "Extra inputs are not permitted", &input);
                    self.loc.pop();
                }
            }
            Extra::Shape(shape) => {
                for (key, field) in map.iter_mut() {
                    if props.iter().any(|p| &p.name == key) {
                        continue;
                    }
                    self.loc.push(LocPart::Key(key.clone().into()));
                    self.check(*shape, field);
                    self.loc.pop();
                }
            }
            Extra::IntegerKeys(shape) => {
                for (key, field) in map.iter_mut() {
                    if props.iter().any(|p| &p.name == key) {
                        continue;
                    }
                    self.loc.push(LocPart::Key(key.clone().into()));
                    if key.trim().parse::<i64>().is_ok() {
                        self.check(*shape, field);
                    } else {
                        // Pydantic's place for a key's own error: `[..., key, "[key]"]`.
                        self.loc.push(LocPart::Key("[key]".into()));
                        self.error(
                            "int_parsing",
                            "Input should be a valid integer, unable to parse string as an integer",
                            &Value::String(key.clone()),
                        );
                        self.loc.pop();
                    }
                    self.loc.pop();
                }
            }
        }
        let _ = shapes;
    }

    fn check_any_of(&mut self, branches: &[ShapeId], value: &mut Value) {
        let mut best: Option<(Vec<ErrorItem>, usize)> = None;
        for &branch in branches {
            let mut attempt = value.clone();
            let mut scratch = Checker {
                shapes: self.shapes,
                origin: self.origin,
                loc: self.loc.clone(),
                errors: Vec::new(),
                model_input: None,
            };
            scratch.check(branch, &mut attempt);
            if scratch.errors.is_empty() {
                *value = attempt;
                return;
            }
            // A branch whose tag matches is the one the client meant.
            let tagged = self.tag_matches(branch, value);
            let rank = if tagged { 0 } else { scratch.errors.len() };
            if best.as_ref().is_none_or(|(_, best_rank)| rank < *best_rank) {
                best = Some((scratch.errors, rank));
            }
        }
        if let Some((errors, _)) = best {
            self.errors.extend(errors);
        }
    }

    /// Whether `value` carries the constant property that identifies `branch` (a serde tag).
    fn tag_matches(&self, branch: ShapeId, value: &Value) -> bool {
        let (Shape::Object { props, .. }, Value::Object(map)) = (self.shapes.get(branch), value)
        else {
            return false;
        };
        props.iter().any(|prop| match self.shapes.get(prop.shape) {
            Shape::Const(expected) => map.get(&prop.name) == Some(expected),
            _ => false,
        })
    }
}

/// Whether [`Checker`] takes the string `text` under `rules` as it is: no error, and no
/// rewriting (a date read as a datetime). What the one-pass reading of a JSON body asks of
/// each string it reads; the same rules in the same order as `check_string`.
pub(crate) fn string_holds(rules: &StrRules, text: &str) -> bool {
    if rules.url && url_error(text).is_some() {
        return false;
    }
    if let Some(kind) = rules.temporal {
        return matches!(temporal::read(kind, text), Reading::Valid);
    }
    if rules.min_length.is_some() || rules.max_length.is_some() {
        let chars = text.chars().count();
        if rules.min_length.is_some_and(|min| chars < min)
            || rules.max_length.is_some_and(|max| chars > max)
        {
            return false;
        }
    }
    rules
        .pattern
        .as_ref()
        .is_none_or(|(_, regex)| regex.is_match(text))
}

/// `'a'` for a string, `1` for a number, as Pydantic writes expected values.
fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// `'a', 'b' or 'c'`.
fn expected_list(values: &[Value]) -> String {
    let texts: Vec<String> = values.iter().map(literal).collect();
    match texts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Builds an object from named string inputs for `shapes`' root object: repeated names become
/// lists where the field is a list, and the last value wins elsewhere. Used for query strings,
/// headers, cookies, forms and path parameters before [`Checker`] runs.
pub(crate) fn params_object<'v>(
    shapes: &Shapes,
    lookup: impl Fn(&str) -> Vec<&'v str>,
) -> Option<Map<String, Value>> {
    let Shape::Object { props, .. } = shapes.get(shapes.root) else {
        return None;
    };
    let mut map = Map::new();
    for prop in props {
        let values = lookup(&prop.name);
        if values.is_empty() {
            continue;
        }
        map.insert(prop.name.clone(), params_value(shapes, prop.shape, &values));
    }
    Some(map)
}

/// The JSON form of string inputs for one field of shape `id`.
pub(crate) fn params_value(shapes: &Shapes, id: ShapeId, values: &[&str]) -> Value {
    let mut shape = shapes.get(id);
    if let Shape::Nullable(inner) = shape {
        shape = shapes.get(*inner);
    }
    match shape {
        Shape::Array { .. } => Value::Array(
            values
                .iter()
                .map(|v| Value::String((*v).to_owned()))
                .collect(),
        ),
        _ => Value::String(values.last().copied().unwrap_or_default().to_owned()),
    }
}
