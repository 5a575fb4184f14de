//! One YAML document → a JSON tree and the line of every key, in one pass over the parser's
//! events (yaml-rust2, YAML 1.2).
//!
//! Building the tree from events rather than through a serde deserializer gives what the
//! loader needs and serde does not: the line of each key (so an error at
//! `backend.listen.port` can say `app-config.yaml:3`), and a key written twice in one mapping
//! found where it happens, with both lines, rather than by reading another library's error
//! text.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::ConfigError;

/// How deep mappings and lists may nest.
const MAX_DEPTH: usize = 128;
/// How many values a document may expand to (aliases included), so that a few lines of
/// aliases cannot expand to gigabytes.
const MAX_NODES: usize = 1_000_000;

/// The handle of YAML's own tags (`!!str` is `tag:yaml.org,2002:str`).
const CORE_TAGS: &str = "tag:yaml.org,2002:";

/// Key path (`backend.listen.port`, `servers[0].name`) → the line it is written on.
pub(crate) type Lines = HashMap<String, usize>;

/// Parses `text` (the source `name`): its root mapping as a JSON value (an empty document is an
/// empty mapping) and the line of every key.
pub(crate) fn parse(name: &str, text: &str) -> Result<(Value, Lines), ConfigError> {
    // The parser skips `%YAML` directives; a document for another major version of YAML is
    // not one this parser can read correctly.
    for (line, directive) in text.lines().enumerate() {
        if let Some(version) = directive.strip_prefix("%YAML") {
            let version = version.trim();
            if !version.starts_with("1.") {
                return Err(ConfigError::Syntax {
                    source_name: name.to_owned(),
                    message: format!(
                        "`%YAML {version}` at line {} is not a YAML version this server reads (1.x)",
                        line + 1
                    ),
                });
            }
        }
    }
    let mut reader = Reader {
        name,
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        lines: Lines::new(),
        nodes: 0,
    };
    let root = reader.document()?;
    match root {
        Value::Null => Ok((Value::Object(Map::new()), reader.lines)),
        Value::Object(_) => Ok((root, reader.lines)),
        other => Err(reader.syntax(format!(
            "the top level must be a mapping of keys (like `backend:`), not {}",
            super::shapes::kind_of(&other)
        ))),
    }
}

struct Reader<'a> {
    name: &'a str,
    parser: Parser<std::str::Chars<'a>>,
    anchors: HashMap<usize, Value>,
    lines: Lines,
    nodes: usize,
}

impl Reader<'_> {
    fn syntax(&self, message: String) -> ConfigError {
        ConfigError::Syntax {
            source_name: self.name.to_owned(),
            message,
        }
    }

    fn next(&mut self) -> Result<(Event, Marker), ConfigError> {
        self.parser.next_token().map_err(|e| ConfigError::Syntax {
            source_name: self.name.to_owned(),
            message: e.to_string(),
        })
    }

    /// The first document's root value; a second document is an error.
    fn document(&mut self) -> Result<Value, ConfigError> {
        let mut root = Value::Null;
        let mut documents = 0;
        loop {
            let (event, mark) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(root),
                Event::DocumentStart => {
                    documents += 1;
                    if documents > 1 {
                        return Err(self.syntax(format!(
                            "it has more than one YAML document (a second `---` at line {}); put each in a file of its own",
                            mark.line()
                        )));
                    }
                }
                event => root = self.node(event, mark, &mut String::new(), 0)?,
            }
        }
    }

    fn count(&mut self, nodes: usize) -> Result<(), ConfigError> {
        self.nodes += nodes;
        if self.nodes > MAX_NODES {
            return Err(self.syntax(format!(
                "it expands to more than {MAX_NODES} values (through aliases?)"
            )));
        }
        Ok(())
    }

    fn node(
        &mut self,
        event: Event,
        mark: Marker,
        path: &mut String,
        depth: usize,
    ) -> Result<Value, ConfigError> {
        if depth > MAX_DEPTH {
            return Err(self.syntax(format!(
                "it nests deeper than {MAX_DEPTH} levels (line {})",
                mark.line()
            )));
        }
        self.count(1)?;
        if let Event::Scalar(_, _, _, Some(tag))
        | Event::SequenceStart(_, Some(tag))
        | Event::MappingStart(_, Some(tag)) = &event
            && tag.handle != CORE_TAGS
        {
            return Err(self.syntax(format!(
                "the tag `{}{}` at line {} is not supported; remove it (only YAML's own `!!str`, `!!int`… are)",
                tag.handle,
                tag.suffix,
                mark.line()
            )));
        }
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => (scalar(text, style, tag.as_ref()), anchor),
            Event::Alias(id) => {
                let value =
                    self.anchors.get(&id).cloned().ok_or_else(|| {
                        self.syntax(format!("unknown alias at line {}", mark.line()))
                    })?;
                self.count(size(&value))?;
                return Ok(value);
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    let len = path.len();
                    path.push_str(&format!("[{}]", items.len()));
                    items.push(self.node(event, mark, path, depth + 1)?);
                    path.truncate(len);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, _) => (self.mapping(path, depth)?, anchor),
            other => {
                return Err(self.syntax(format!("unexpected {other:?} at line {}", mark.line())));
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }

    fn mapping(&mut self, path: &mut String, depth: usize) -> Result<Value, ConfigError> {
        let mut map = Map::new();
        loop {
            let (event, mark) = self.next()?;
            let key = match event {
                Event::MappingEnd => return Ok(Value::Object(map)),
                Event::Scalar(text, ..) => text,
                Event::Alias(id) => match self.anchors.get(&id) {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) if !other.is_object() && !other.is_array() => other.to_string(),
                    _ => return Err(self.not_scalar_key(path, mark)),
                },
                _ => return Err(self.not_scalar_key(path, mark)),
            };
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key);
            if map.contains_key(&key) {
                let first = self.lines.get(path.as_str()).copied().unwrap_or_default();
                return Err(ConfigError::Invalid {
                    key: path.clone(),
                    message: format!(
                        "the key is written twice in config file {} (lines {first} and {}); a key may appear once per mapping, so merge the two",
                        self.name,
                        mark.line()
                    ),
                    location: Some(format!("{}:{}", self.name, mark.line())),
                });
            }
            self.lines.insert(path.clone(), mark.line());
            let (event, mark) = self.next()?;
            let value = self.node(event, mark, path, depth + 1)?;
            path.truncate(len);
            map.insert(key, value);
        }
    }

    fn not_scalar_key(&self, path: &str, mark: Marker) -> ConfigError {
        let at = if path.is_empty() {
            "the top level"
        } else {
            path
        };
        self.syntax(format!(
            "a key under {at} at line {} is a list or a mapping; keys must be plain words",
            mark.line()
        ))
    }
}

/// How many values `value` holds, itself included.
fn size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// A scalar as YAML 1.2's core schema reads it: quoted or tagged `!!str` → a string; plain →
/// null, a boolean, a number or a string.
fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    let tagged_str = tag.is_some_and(|t| t.handle == CORE_TAGS && t.suffix == "str");
    if style != TScalarStyle::Plain || tagged_str {
        return Value::String(text);
    }
    if let Ok(n) = text.parse::<u64>() {
        return Value::from(n);
    }
    match Yaml::from_str(&text) {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::from(i),
        Yaml::Real(real) => real
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        _ => Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(text: &str) -> Value {
        parse("t.yaml", text).unwrap().0
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        assert_eq!(
            tree("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: text\ng: !!str 2\nh: 0x10\ni: \"\"\n"),
            json!({"a": 1, "b": "1", "c": true, "d": null, "e": 1.5, "f": "text", "g": "2", "h": 16, "i": ""})
        );
        assert_eq!(tree(""), json!({}));
        assert_eq!(tree("# only a comment\n"), json!({}));
    }

    #[test]
    fn lines_of_keys_and_aliases() {
        let (value, lines) =
            parse("t.yaml", "base: &b\n  x: 1\nlist:\n  - name: a\n  - *b\n").unwrap();
        assert_eq!(
            value,
            json!({"base": {"x": 1}, "list": [{"name": "a"}, {"x": 1}]})
        );
        assert_eq!(lines["base.x"], 2);
        assert_eq!(lines["list[0].name"], 4);
    }

    #[test]
    fn duplicate_keys_name_the_path_and_both_lines() {
        let err = parse("t.yaml", "a:\n  b: 1\n  b: 2\n").unwrap_err();
        assert_eq!(err.key(), Some("a.b"));
        assert!(err.to_string().contains("lines 2 and 3"), "{err}");
    }

    #[test]
    fn bad_documents() {
        for (text, says) in [
            ("- a\n", "mapping"),
            ("a: [\n", "line"),
            ("a: 1\n---\nb: 2\n", "more than one"),
            ("? [a]\n: 1\n", "plain words"),
            ("a: !custom 1\n", "not supported"),
            ("%YAML 9.9\n---\na: 1\n", "YAML version"),
        ] {
            let err = parse("t.yaml", text).unwrap_err();
            assert!(err.to_string().contains(says), "{text:?}: {err}");
        }
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse("t.yaml", &format!("a: {deep}\n")).is_err());
        let bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";
        assert!(
            parse("t.yaml", bomb)
                .unwrap_err()
                .to_string()
                .contains("expands")
        );
    }
}
