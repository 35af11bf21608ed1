//! Shapes: the part of a JSON Schema (as schemars writes it) that validation needs, compiled
//! once per type into a flat table.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// An index into [`Shapes::table`].
pub(crate) type ShapeId = usize;

/// Bounds on a number.
#[derive(Debug, Clone, Default)]
pub(crate) struct NumBounds {
    pub(crate) minimum: Option<f64>,
    pub(crate) maximum: Option<f64>,
    pub(crate) exclusive_minimum: Option<f64>,
    pub(crate) exclusive_maximum: Option<f64>,
    pub(crate) multiple_of: Option<f64>,
    /// Whether the schema declares a bound beyond the Rust type's own range: a constraint that
    /// deserialisation does not check.
    pub(crate) declared: bool,
}

impl NumBounds {
    /// The first bound `n` breaks, in the order Pydantic reports them: `(limit, which)`.
    pub(crate) fn broken(&self, n: f64) -> Option<(f64, Bound)> {
        let checks = [
            (self.exclusive_minimum, Bound::Gt),
            (self.minimum, Bound::Ge),
            (self.exclusive_maximum, Bound::Lt),
            (self.maximum, Bound::Le),
        ];
        for (limit, bound) in checks {
            let Some(limit) = limit else { continue };
            let holds = match bound {
                Bound::Gt => n > limit,
                Bound::Ge => n >= limit,
                Bound::Lt => n < limit,
                Bound::Le | Bound::MultipleOf => n <= limit,
            };
            if !holds {
                return Some((limit, bound));
            }
        }
        match self.multiple_of {
            Some(step) if step != 0.0 && (n / step).fract().abs() > 1e-9 => {
                Some((step, Bound::MultipleOf))
            }
            _ => None,
        }
    }
}

/// Which bound a number breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Gt,
    Ge,
    Lt,
    Le,
    MultipleOf,
}

/// Constraints on a string.
#[derive(Debug, Clone, Default)]
pub(crate) struct StrRules {
    pub(crate) min_length: Option<usize>,
    pub(crate) max_length: Option<usize>,
    pub(crate) pattern: Option<(String, regex::Regex)>,
    /// `format: uri` (`#[schemars(url)]`): an absolute URL, as Pydantic's `AnyUrl` checks it.
    pub(crate) url: bool,
    /// `format: date-time` or `date`: a datetime or a date, as Pydantic reads them.
    pub(crate) temporal: Option<super::temporal::Temporal>,
}

impl StrRules {
    /// Whether these rules say more than "a string" (a date format is no constraint: a value
    /// chrono takes is valid).
    fn constrains(&self) -> bool {
        self.min_length.is_some() || self.max_length.is_some() || self.pattern.is_some() || self.url
    }
}

/// One property of an object.
#[derive(Debug, Clone)]
pub(crate) struct Prop {
    pub(crate) name: String,
    pub(crate) shape: ShapeId,
    pub(crate) required: bool,
    /// The value an absent field takes, as its schema states it (`#[serde(default)]`).
    pub(crate) default: Option<Value>,
}

/// What an object does with keys it does not declare.
#[derive(Debug, Clone)]
pub(crate) enum Extra {
    Allow,
    Forbid,
    Shape(ShapeId),
    /// A map with integer keys (`HashMap<i64, V>`): every other key must be an integer, as
    /// Pydantic's `dict[int, V]` checks it, with a value of the shape.
    IntegerKeys(ShapeId),
}

/// A value's expected shape.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Any,
    Never,
    Null,
    Bool,
    /// An integer; the bounds include the Rust type's range (from the schema's `format`).
    Integer(NumBounds),
    Number(NumBounds),
    String(StrRules),
    Const(Value),
    /// One of `values`. A named type (a definition, a component in the document) is an enum, as
    /// Python's `Enum` classes are; an inline one is a `Literal`, and reported as one.
    Enum {
        values: Vec<Value>,
        literal: bool,
    },
    Array {
        items: Option<ShapeId>,
        prefix: Vec<ShapeId>,
        min_items: Option<usize>,
        max_items: Option<usize>,
    },
    Object {
        props: Vec<Prop>,
        extra: Extra,
    },
    Nullable(ShapeId),
    AnyOf(Vec<ShapeId>),
    AllOf(Vec<ShapeId>),
    /// A `$ref`, resolved once every definition is compiled.
    Ref(ShapeId),
}

/// A compiled schema: a table of shapes and the root.
#[derive(Debug, Clone)]
pub(crate) struct Shapes {
    pub(crate) table: Vec<Shape>,
    pub(crate) root: ShapeId,
    /// Whether any shape carries a constraint beyond its type (bounds, lengths, patterns,
    /// forbidden extras): then a value that deserialises can still be invalid.
    pub(crate) has_constraints: bool,
    /// By shape: whether it or a shape inside it carries such a constraint (what a JSON body
    /// read in one pass checks; see `validate::stream`).
    pub(crate) constrained: Vec<bool>,
    /// The root object's properties that receive files (a binary string, a list of them, or
    /// an optional one): what a multipart form reads as uploads.
    pub(crate) files: Vec<String>,
    /// The root object's properties marked to be read under their name as written (see
    /// [`VERBATIM`]): headers named with an alias or `convert_underscores = false`.
    pub(crate) verbatim: Vec<String>,
    /// Whether the root is a model (a struct of the application's, as FastAPI's parameter
    /// models): a missing field reports the model's input, as Pydantic does. The struct
    /// `#[portico::handler]` makes of single parameters is marked [`FIELDS`] and reports
    /// `null`, as FastAPI does for each parameter validated on its own.
    pub(crate) model: bool,
}

/// The schema extension on a struct `#[portico::handler]` makes of single parameters.
pub(crate) const FIELDS: &str = "x-portico-fields";

/// The schema extension, on a property, that keeps a header parameter's name as written
/// instead of turning `_` into `-`; `#[portico::handler]` writes it, the document leaves it out.
pub(crate) const VERBATIM: &str = "x-portico-verbatim";

/// The schema extension, on a property, that leaves a parameter out of the document
/// (`include_in_schema = false`); `#[portico::handler]` writes it.
pub(crate) const HIDDEN: &str = "x-portico-hidden";

impl Shapes {
    /// The shape behind `id`, following references.
    pub(crate) fn get(&self, mut id: ShapeId) -> &Shape {
        // References chain at most through definitions; a cycle of pure references would be a
        // schema of nothing, so stop after a bounded number of hops.
        for _ in 0..64 {
            match &self.table[id] {
                Shape::Ref(target) => id = *target,
                shape => return shape,
            }
        }
        &Shape::Any
    }

    /// The shapes of `T`, or shapes that accept anything when its schema cannot be compiled
    /// (logged: serde still checks the types). Routes report such a schema when they are
    /// built; this is for a parameter read outside any route's declaration.
    pub(crate) fn compile_or_accept_all<T: schemars::JsonSchema>() -> Shapes {
        Shapes::compile(&portico_openapi::schema_for::<T>()).unwrap_or_else(|err| {
            tracing::error!(
                r#type = std::any::type_name::<T>(),
                "cannot validate with its schema: {err}"
            );
            Shapes {
                table: vec![Shape::Any],
                root: 0,
                has_constraints: false,
                constrained: vec![false],
                files: Vec::new(),
                verbatim: Vec::new(),
                model: false,
            }
        })
    }

    /// Whether the root object has a property `name`.
    #[cfg(feature = "multipart")]
    pub(crate) fn has_field(&self, name: &str) -> bool {
        match self.get(self.root) {
            Shape::Object { props, .. } => props.iter().any(|p| p.name == name),
            _ => false,
        }
    }

    /// Compiles a root schema (with its `$defs`).
    pub(crate) fn compile(root: &Value) -> Result<Shapes, String> {
        let mut compiler = Compiler {
            table: Vec::new(),
            defs: HashMap::new(),
        };
        let empty = Map::new();
        let defs = root
            .get("$defs")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        // Reserve an id per definition first, so that references (even recursive ones) resolve.
        for name in defs.keys() {
            let id = compiler.push(Shape::Any);
            compiler.defs.insert(format!("#/$defs/{name}"), id);
        }
        for (name, schema) in defs {
            let id = compiler.defs[&format!("#/$defs/{name}")];
            let shape = match compiler.shape(schema)? {
                Shape::Enum { values, .. } => Shape::Enum {
                    values,
                    literal: false,
                },
                shape => shape,
            };
            compiler.table[id] = shape;
        }
        let model = root.get(FIELDS) != Some(&Value::Bool(true));
        let props = portico_openapi::properties(root);
        let files = props
            .iter()
            .filter(|(_, prop, _)| is_binary(prop, root))
            .map(|(name, _, _)| name.clone())
            .collect();
        let verbatim = props
            .into_iter()
            .filter(|(_, prop, _)| prop.get(VERBATIM) == Some(&Value::Bool(true)))
            .map(|(name, _, _)| name)
            .collect();
        let root = compiler.compile(root)?;
        let constrained = constrained(&compiler.table);
        Ok(Shapes {
            has_constraints: constrained.contains(&true),
            constrained,
            table: compiler.table,
            root,
            files,
            verbatim,
            model,
        })
    }
}

/// Whether a property schema describes an upload (directly, as list items, or as an option).
fn is_binary(schema: &Value, root: &Value) -> bool {
    let schema = resolve(schema, root);
    if schema.get("format").and_then(Value::as_str) == Some("binary") {
        return true;
    }
    if let Some(items) = schema.get("items") {
        return is_binary(items, root);
    }
    ["anyOf", "oneOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().any(|o| is_binary(o, root)))
    })
}

/// Follows a local `$ref` (`#/$defs/...`).
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/"))
    {
        Some(path) => {
            let mut target = root;
            for part in path.split('/') {
                target = match target.get(part) {
                    Some(next) => next,
                    None => return schema,
                };
            }
            target
        }
        None => schema,
    }
}

/// Whether a shape itself carries a constraint beyond its type.
fn constrains(shape: &Shape) -> bool {
    match shape {
        Shape::Integer(bounds) | Shape::Number(bounds) => bounds.declared,
        Shape::String(rules) => rules.constrains(),
        // Tuples state their length; only a declared length on a list is a constraint.
        Shape::Array {
            prefix,
            min_items,
            max_items,
            ..
        } => prefix.is_empty() && (min_items.is_some() || max_items.is_some()),
        Shape::Object { extra, .. } => matches!(extra, Extra::Forbid | Extra::IntegerKeys(_)),
        _ => false,
    }
}

/// The shapes directly inside `shape`.
fn children(shape: &Shape) -> Vec<ShapeId> {
    match shape {
        Shape::Array { items, prefix, .. } => prefix.iter().copied().chain(*items).collect(),
        Shape::Object { props, extra } => {
            let extra = match extra {
                Extra::Shape(id) | Extra::IntegerKeys(id) => Some(*id),
                Extra::Allow | Extra::Forbid => None,
            };
            props.iter().map(|p| p.shape).chain(extra).collect()
        }
        Shape::Nullable(id) | Shape::Ref(id) => vec![*id],
        Shape::AnyOf(ids) | Shape::AllOf(ids) => ids.clone(),
        _ => Vec::new(),
    }
}

/// By shape: whether it or a shape inside it constrains (references followed, cycles too).
fn constrained(table: &[Shape]) -> Vec<bool> {
    let mut marks: Vec<bool> = table.iter().map(constrains).collect();
    let inside: Vec<Vec<ShapeId>> = table.iter().map(children).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for (id, children) in inside.iter().enumerate() {
            if !marks[id] && children.iter().any(|&child| marks[child]) {
                marks[id] = true;
                changed = true;
            }
        }
    }
    marks
}

struct Compiler {
    table: Vec<Shape>,
    defs: HashMap<String, ShapeId>,
}

fn num(schema: &Map<String, Value>, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

fn usize_of(schema: &Map<String, Value>, key: &str) -> Option<usize> {
    schema
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

/// The range of the Rust integer type behind a schemars `format`.
fn format_bounds(format: Option<&str>) -> (Option<f64>, Option<f64>) {
    match format {
        Some("int8") => (Some(f64::from(i8::MIN)), Some(f64::from(i8::MAX))),
        Some("int16") => (Some(f64::from(i16::MIN)), Some(f64::from(i16::MAX))),
        Some("int32") => (Some(f64::from(i32::MIN)), Some(f64::from(i32::MAX))),
        Some("int64") => (Some(i64::MIN as f64), Some(i64::MAX as f64)),
        Some("uint8") => (Some(0.0), Some(f64::from(u8::MAX))),
        Some("uint16") => (Some(0.0), Some(f64::from(u16::MAX))),
        Some("uint32") => (Some(0.0), Some(f64::from(u32::MAX))),
        Some("uint64" | "uint") => (Some(0.0), Some(u64::MAX as f64)),
        _ => (None, None),
    }
}

impl Compiler {
    fn push(&mut self, shape: Shape) -> ShapeId {
        self.table.push(shape);
        self.table.len() - 1
    }

    fn compile(&mut self, schema: &Value) -> Result<ShapeId, String> {
        let shape = self.shape(schema)?;
        Ok(self.push(shape))
    }

    fn shape(&mut self, schema: &Value) -> Result<Shape, String> {
        let schema = match schema {
            Value::Bool(true) => return Ok(Shape::Any),
            Value::Bool(false) => return Ok(Shape::Never),
            Value::Object(map) => map,
            other => {
                return Err(format!(
                    "a schema must be an object or a boolean, not {other}"
                ));
            }
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = *self
                .defs
                .get(reference)
                .ok_or_else(|| format!("unresolved reference {reference}"))?;
            return Ok(Shape::Ref(target));
        }
        if let Some(value) = schema.get("const") {
            return Ok(Shape::Const(value.clone()));
        }
        if let Some(Value::Array(values)) = schema.get("enum") {
            // A named type's schema has its title (the root's, or a definition's): an enum.
            return Ok(Shape::Enum {
                values: values.clone(),
                literal: !schema.contains_key("title"),
            });
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(key) {
                return self.union(branches);
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            let parts = parts
                .iter()
                .map(|part| self.compile(part))
                .collect::<Result<_, _>>()?;
            return Ok(Shape::AllOf(parts));
        }
        match schema.get("type") {
            Some(Value::String(ty)) => self.typed(ty, schema),
            Some(Value::Array(types)) => {
                let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                let nullable = names.contains(&"null");
                let others: Vec<&str> = names.into_iter().filter(|ty| *ty != "null").collect();
                let inner = match others.as_slice() {
                    [] => Shape::Null,
                    [one] => self.typed(one, schema)?,
                    many => {
                        let ids = many
                            .iter()
                            .map(|ty| {
                                let shape = self.typed(ty, schema)?;
                                Ok(self.push(shape))
                            })
                            .collect::<Result<_, String>>()?;
                        Shape::AnyOf(ids)
                    }
                };
                if nullable {
                    let id = self.push(inner);
                    Ok(Shape::Nullable(id))
                } else {
                    Ok(inner)
                }
            }
            _ => Ok(Shape::Any),
        }
    }

    fn union(&mut self, branches: &[Value]) -> Result<Shape, String> {
        let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
        let non_null: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
        let nullable = non_null.len() < branches.len();
        let inner = match non_null.as_slice() {
            [one] => self.shape(one)?,
            many => {
                let ids = many
                    .iter()
                    .map(|b| self.compile(b))
                    .collect::<Result<_, _>>()?;
                Shape::AnyOf(ids)
            }
        };
        if nullable {
            let id = self.push(inner);
            Ok(Shape::Nullable(id))
        } else {
            Ok(inner)
        }
    }

    fn typed(&mut self, ty: &str, schema: &Map<String, Value>) -> Result<Shape, String> {
        Ok(match ty {
            "null" => Shape::Null,
            "boolean" => Shape::Bool,
            "integer" | "number" => {
                let (type_min, type_max) =
                    format_bounds(schema.get("format").and_then(Value::as_str));
                let declared_min = num(schema, "minimum");
                let declared_max = num(schema, "maximum");
                let mut bounds = NumBounds {
                    minimum: declared_min.or(type_min),
                    maximum: declared_max.or(type_max),
                    exclusive_minimum: num(schema, "exclusiveMinimum"),
                    exclusive_maximum: num(schema, "exclusiveMaximum"),
                    multiple_of: num(schema, "multipleOf"),
                    declared: false,
                };
                // A range that only restates the Rust type is checked by deserialisation too.
                bounds.declared = declared_min.is_some_and(|m| Some(m) != type_min)
                    || declared_max.is_some_and(|m| Some(m) != type_max)
                    || bounds.exclusive_minimum.is_some()
                    || bounds.exclusive_maximum.is_some()
                    || bounds.multiple_of.is_some();
                if ty == "integer" {
                    Shape::Integer(bounds)
                } else {
                    Shape::Number(bounds)
                }
            }
            "string" => {
                let pattern = match schema.get("pattern").and_then(Value::as_str) {
                    Some(pattern) => {
                        let regex = regex::Regex::new(pattern)
                            .map_err(|err| format!("invalid pattern {pattern:?}: {err}"))?;
                        Some((pattern.to_owned(), regex))
                    }
                    None => None,
                };
                let rules = StrRules {
                    min_length: usize_of(schema, "minLength"),
                    max_length: usize_of(schema, "maxLength"),
                    pattern,
                    url: schema.get("format").and_then(Value::as_str) == Some("uri"),
                    // Not a constraint: a value chrono takes is valid, and the checker reads
                    // the others.
                    temporal: super::temporal::Temporal::of_format(
                        schema.get("format").and_then(Value::as_str),
                    ),
                };
                Shape::String(rules)
            }
            "array" => {
                let items = match schema.get("items") {
                    Some(items) => Some(self.compile(items)?),
                    None => None,
                };
                let prefix = match schema.get("prefixItems") {
                    Some(Value::Array(prefix)) => prefix
                        .iter()
                        .map(|s| self.compile(s))
                        .collect::<Result<_, _>>()?,
                    _ => Vec::new(),
                };
                let (min_items, max_items) =
                    (usize_of(schema, "minItems"), usize_of(schema, "maxItems"));
                Shape::Array {
                    items,
                    prefix,
                    min_items,
                    max_items,
                }
            }
            "object" => {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|names| names.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut props = Vec::new();
                if let Some(Value::Object(properties)) = schema.get("properties") {
                    for (name, prop) in properties {
                        let shape = self.compile(prop)?;
                        props.push(Prop {
                            name: name.clone(),
                            shape,
                            required: required.contains(&name.as_str()),
                            default: prop.get("default").cloned(),
                        });
                    }
                }
                let integer_keys = schema
                    .get("patternProperties")
                    .and_then(Value::as_object)
                    .filter(|patterns| patterns.len() == 1)
                    .and_then(|patterns| patterns.iter().next())
                    .filter(|(pattern, _)| {
                        portico_openapi::INTEGER_KEY_PATTERNS.contains(&pattern.as_str())
                    });
                let extra = if let Some((_, values)) = integer_keys {
                    Extra::IntegerKeys(self.compile(values)?)
                } else {
                    match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => Extra::Forbid,
                        Some(Value::Bool(true)) | None => Extra::Allow,
                        Some(shape) => Extra::Shape(self.compile(shape)?),
                    }
                };
                Shape::Object { props, extra }
            }
            other => return Err(format!("unknown JSON Schema type {other:?}")),
        })
    }
}
