//! Whether a type, as written, can be an action's input or output: MCP requires one JSON object
//! at the root of a tool's input and output, so well-known non-object types (scalars, `String`,
//! `Vec`, `Option`, tuples, `()`, `serde_json::Value`) are compile errors spanned on the type.

use syn::ext::IdentExt;
use syn::{Ident, Type};

use crate::types::{single_type_argument, type_string};

/// What JSON a type written as a well-known non-object serializes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `()`.
    Unit,
    /// A string, number or boolean: which one, as "a JSON …".
    Scalar(&'static str),
    /// A JSON array: `Vec<T>`, tuples, arrays, slices, sets.
    Array,
    /// `Option<T>`: `null` or the inner value.
    Optional,
    /// `serde_json::Value`: any JSON value.
    AnyValue,
}

/// Whether `ty`, as written, is a type whose JSON is never an object (MCP requires an object at
/// the root of tool input and output schemas). Only well-known std types are matched, written
/// bare or through `std`/`core`/`alloc`, so a user type of the same name is left alone; maps
/// (`HashMap`, `BTreeMap`) are JSON objects and are accepted. Everything else is still checked
/// on its generated schema when the registry is built.
pub(crate) fn not_an_object(ty: &Type) -> Option<Shape> {
    match ty {
        Type::Paren(inner) => not_an_object(&inner.elem),
        Type::Group(inner) => not_an_object(&inner.elem),
        Type::Tuple(tuple) if tuple.elems.is_empty() => Some(Shape::Unit),
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) => Some(Shape::Array),
        Type::Reference(reference) => not_an_object(&reference.elem),
        Type::Path(path) if path.qself.is_none() => {
            let segments: Vec<_> = path.path.segments.iter().collect();
            let (last, prefix) = segments.split_last()?;
            let in_std = prefix.iter().all(|s| {
                ["std", "core", "alloc"].contains(&s.ident.to_string().as_str())
                    || is_std_module(&s.ident)
            });
            let name = last.ident.to_string();
            if prefix.len() == 1 && prefix[0].ident == "serde_json" && name == "Value" {
                return Some(Shape::AnyValue);
            }
            if !in_std {
                return None;
            }
            match name.as_str() {
                "bool" => Some(Shape::Scalar("a JSON boolean")),
                "char" | "str" | "String" => Some(Shape::Scalar("a JSON string")),
                "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
                | "i128" | "isize" | "f32" | "f64" => Some(Shape::Scalar("a JSON number")),
                "Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "BinaryHeap" => {
                    Some(Shape::Array)
                }
                "Option" => Some(Shape::Optional),
                // A pointer serializes as what it points to.
                "Box" | "Rc" | "Arc" | "Cow" => {
                    single_type_argument(&last.arguments).and_then(not_an_object)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A module of `std` on the way to a type we match (`std::string::String`, `std::vec::Vec`…).
fn is_std_module(ident: &Ident) -> bool {
    [
        "string",
        "vec",
        "collections",
        "option",
        "boxed",
        "rc",
        "sync",
        "borrow",
        "primitive",
    ]
    .contains(&ident.to_string().as_str())
}

fn what(ty: &Type, shape: Shape) -> String {
    let ty = type_string(ty);
    match shape {
        Shape::Unit => "`()`".into(),
        Shape::Scalar(json) => format!("`{ty}`, which is {json}"),
        Shape::Array => format!("`{ty}`, which is a JSON array"),
        Shape::Optional => format!("`{ty}`, which may be JSON `null`"),
        Shape::AnyValue => format!("`{ty}`, which may be any JSON value"),
    }
}

/// A field name to suggest for wrapping a value of this shape.
fn field_for(shape: Shape) -> &'static str {
    match shape {
        Shape::Array => "items",
        _ => "value",
    }
}

pub(crate) fn input_not_an_object(ty: &Type, pat: &syn::Pat, shape: Shape) -> syn::Error {
    if shape == Shape::Unit {
        return syn::Error::new_spanned(
            ty,
            "an action's input cannot be `()`: an action that needs no input takes no input argument; remove it",
        );
    }
    let field = match pat {
        syn::Pat::Ident(pat) if pat.ident != "input" => pat.ident.unraw().to_string(),
        _ => field_for(shape).to_owned(),
    };
    let owned = type_string(ty)
        .trim_start_matches('&')
        .replace("'static ", "");
    let owned = if owned == "str" {
        "String".into()
    } else {
        owned
    };
    syn::Error::new_spanned(
        ty,
        format!(
            "an action's input must be a struct with named fields, not {}: MCP passes a tool's arguments as one JSON object; wrap it in a struct: `#[derive(Deserialize, JsonSchema)] struct Input {{ {field}: {owned} }}`",
            what(ty, shape),
        ),
    )
}

pub(crate) fn output_not_an_object(ty: &Type, shape: Shape) -> syn::Error {
    if shape == Shape::Unit {
        return syn::Error::new_spanned(
            ty,
            "an action's output cannot be `()`: MCP structured output is one JSON object; return a struct, even an empty one: `#[derive(Serialize, JsonSchema)] struct Done {}`",
        );
    }
    let owned = type_string(ty);
    syn::Error::new_spanned(
        ty,
        format!(
            "an action's output must be a struct with named fields, not {}: MCP structured output is one JSON object; wrap it in a struct: `#[derive(Serialize, JsonSchema)] struct Output {{ {}: {owned} }}`",
            what(ty, shape),
            field_for(shape),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn non_object_types() {
        let shape = |ty: Type| not_an_object(&ty);
        assert_eq!(
            shape(parse_quote!(String)),
            Some(Shape::Scalar("a JSON string"))
        );
        assert_eq!(
            shape(parse_quote!(::std::string::String)),
            Some(Shape::Scalar("a JSON string"))
        );
        assert_eq!(
            shape(parse_quote!(u32)),
            Some(Shape::Scalar("a JSON number"))
        );
        assert_eq!(shape(parse_quote!(std::vec::Vec<Item>)), Some(Shape::Array));
        assert_eq!(shape(parse_quote!((u8, u8))), Some(Shape::Array));
        assert_eq!(shape(parse_quote!([u8; 4])), Some(Shape::Array));
        assert_eq!(shape(parse_quote!(Option<Item>)), Some(Shape::Optional));
        assert_eq!(
            shape(parse_quote!(Box<str>)),
            Some(Shape::Scalar("a JSON string"))
        );
        assert_eq!(shape(parse_quote!(())), Some(Shape::Unit));
        assert_eq!(
            shape(parse_quote!(serde_json::Value)),
            Some(Shape::AnyValue)
        );
        // Objects, and types the macro cannot see into: left to the start-up schema check.
        assert_eq!(shape(parse_quote!(Item)), None);
        assert_eq!(shape(parse_quote!(HashMap<String, u32>)), None);
        assert_eq!(
            shape(parse_quote!(std::collections::BTreeMap<String, u32>)),
            None
        );
        assert_eq!(shape(parse_quote!(Box<Item>)), None);
        assert_eq!(shape(parse_quote!(my::String)), None);
        assert_eq!(shape(parse_quote!(Value)), None);
    }
}
