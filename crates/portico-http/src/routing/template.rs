//! Route templates in FastAPI's syntax (`/items/{item_id}`, `/files/{rest:path}`): checked
//! and converted for the matcher when a route is added, and filled in again for `url_for`;
//! and the URL templates of callbacks, which hold runtime expressions (`{$request.body#/id}`).

use std::collections::HashMap;

/// Converts a FastAPI path template to matchit's syntax: `{rest:path}` becomes `{*rest}`.
/// Returns the converted template and the parameter names in order.
pub(crate) fn parse(template: &str) -> Result<(String, Vec<String>), String> {
    if template.is_empty() {
        return Err(
            "a route has the empty path, which only a route of a router with a prefix may have"
                .to_owned(),
        );
    }
    if !template.starts_with('/') {
        return Err(format!("the path `{template}` must start with `/`"));
    }
    let scanned = scan(template, false)?;
    Ok((scanned.matchit, scanned.names))
}

/// Reads the URL template of a callback (`{$request.body#/callback_url}/invoices/{id}`): its
/// `{$...}` parts are OpenAPI runtime expressions, which the caller fills in when it sends the
/// request, not parameters; its `{name}` parts are path parameters, as in a route's template;
/// it need not start with `/`. Returns the URL as the document keys it (runtime expressions as
/// written, `{rest:path}` as `{rest}`) and the parameter names in order.
pub(crate) fn parse_callback(template: &str) -> Result<(String, Vec<String>), String> {
    if template.is_empty() {
        return Err(
            "a callback has the empty URL; write where the request goes, such as `{$request.body#/callback_url}/events`"
                .to_owned(),
        );
    }
    let scanned = scan(template, true)?;
    Ok((scanned.key, scanned.names))
}

/// A template as read by [`scan`].
struct Scanned {
    /// In matchit's syntax.
    matchit: String,
    /// As OpenAPI writes it.
    key: String,
    /// The parameter names, in order.
    names: Vec<String>,
}

/// Reads a template's parameters; `{$...}` runtime expressions are kept as written when
/// `expressions` is on, and refused otherwise.
fn scan(template: &str, expressions: bool) -> Result<Scanned, String> {
    let mut out = String::with_capacity(template.len());
    let mut key = String::with_capacity(template.len());
    let mut names = Vec::new();
    let mut chars = template.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                chars.next();
                out.push_str("{{");
                key.push('{');
            }
            '}' if chars.peek().is_some_and(|&(_, n)| n == '}') => {
                chars.next();
                out.push_str("}}");
                key.push('}');
            }
            '{' => {
                let rest = &template[at + 1..];
                let Some(close) = rest.find('}') else {
                    return Err(format!("the path `{template}` has a `{{` without its `}}`"));
                };
                let inner = &rest[..close];
                for _ in 0..inner.chars().count() + 1 {
                    chars.next();
                }
                if let Some(expression) = inner.strip_prefix('$') {
                    if !expressions {
                        return Err(format!(
                            "the path `{template}` holds the runtime expression `{{{inner}}}`, which only the URL of a callback may hold (see `Callback`)"
                        ));
                    }
                    if expression.is_empty() {
                        return Err(format!(
                            "the callback URL `{template}` has an empty runtime expression `{{$}}`"
                        ));
                    }
                    key.push('{');
                    key.push_str(inner);
                    key.push('}');
                    continue;
                }
                let (name, catch_all) = match inner.split_once(':') {
                    Some((name, "path")) => (name, true),
                    Some((_, kind)) => {
                        return Err(format!(
                            "the path `{template}` uses the converter `{kind}`; only `path` is known (types come from the handler's parameters)"
                        ));
                    }
                    None => match inner.strip_prefix('*') {
                        Some(name) => (name, true),
                        None => (inner, false),
                    },
                };
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(format!(
                        "the path `{template}` has an invalid parameter name `{name}`"
                    ));
                }
                if names.iter().any(|n| n == name) {
                    return Err(format!(
                        "the path `{template}` names the parameter `{name}` twice"
                    ));
                }
                names.push(name.to_owned());
                out.push('{');
                if catch_all {
                    out.push('*');
                }
                out.push_str(name);
                out.push('}');
                key.push('{');
                key.push_str(name);
                key.push('}');
            }
            '}' => return Err(format!("the path `{template}` has a `}}` without its `{{`")),
            c => {
                out.push(c);
                key.push(c);
            }
        }
    }
    Ok(Scanned {
        matchit: out,
        key,
        names,
    })
}

/// A file's path under a mount: percent-encoded but for its slashes, starting with one.
pub(crate) fn mount_path(rest: &str) -> String {
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(rest, PATH).to_string();
    if encoded.is_empty() || encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    }
}

/// A path template with its parameters filled in (percent-encoded, except a `:path` one);
/// `Err` names a parameter without a value.
pub(crate) fn fill(template: &str, values: &HashMap<String, String>) -> Result<String, String> {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if rest[open..].starts_with("{{") {
            out.push_str(&rest[..open + 1]);
            rest = &rest[open + 2..];
            continue;
        }
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let (name, whole_path) = match inner.strip_suffix(":path") {
            Some(name) => (name, true),
            None => (inner.trim_start_matches('*'), inner.starts_with('*')),
        };
        let value = values.get(name).ok_or_else(|| name.to_owned())?;
        if whole_path {
            out.push_str(value.trim_start_matches('/'));
        } else {
            out.extend(percent_encoding::utf8_percent_encode(value, SEGMENT));
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&rest.replace("}}", "}"));
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::parse as parse_template;
    use super::parse_callback;

    #[test]
    fn templates_convert_to_matchit_syntax() {
        assert_eq!(
            parse_template("/items/{item_id}").unwrap(),
            ("/items/{item_id}".into(), vec!["item_id".into()])
        );
        assert_eq!(
            parse_template("/files/{p:path}").unwrap(),
            ("/files/{*p}".into(), vec!["p".into()])
        );
        assert_eq!(
            parse_template("/files/{*rest}").unwrap(),
            ("/files/{*rest}".into(), vec!["rest".into()])
        );
        assert_eq!(
            parse_template("/a/{{b}}").unwrap(),
            ("/a/{{b}}".into(), vec![])
        );
        assert!(
            parse_template("items")
                .unwrap_err()
                .contains("must start with `/`")
        );
        assert!(
            parse_template("/a/{id:int}")
                .unwrap_err()
                .contains("converter `int`")
        );
        assert!(
            parse_template("/a/{id}/{id}")
                .unwrap_err()
                .contains("twice")
        );
        assert!(parse_template("/a/{id").unwrap_err().contains("without"));
        assert!(
            parse_template("/a/{$request.body.id}")
                .unwrap_err()
                .contains("only the URL of a callback")
        );
    }

    #[test]
    fn callback_urls_keep_runtime_expressions_and_read_parameters() {
        assert_eq!(
            parse_callback("{$callback_url}/invoices/{$request.body.id}").unwrap(),
            ("{$callback_url}/invoices/{$request.body.id}".into(), vec![])
        );
        assert_eq!(
            parse_callback("{$request.body#/url}/shops/{shop}/{rest:path}").unwrap(),
            (
                "{$request.body#/url}/shops/{shop}/{rest}".into(),
                vec!["shop".into(), "rest".into()]
            )
        );
        assert!(parse_callback("").unwrap_err().contains("empty URL"));
        assert!(
            parse_callback("{$}/events")
                .unwrap_err()
                .contains("empty runtime expression")
        );
        assert!(
            parse_callback("{$request.body.id")
                .unwrap_err()
                .contains("without")
        );
    }
}
