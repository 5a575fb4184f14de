//! Semantic checks: turns the parsed attribute and the function into what `expand` needs, or
//! records why it cannot.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    Expr, FnArg, GenericArgument, GenericParam, Ident, ItemFn, Lit, LitStr, Meta, Path,
    PathArguments, ReturnType, Safety, Type, parse_quote,
};

use crate::attr::ActionArgs;
use crate::confirm::Confirm;
use crate::errors::Errors;
use crate::object::{input_not_an_object, not_an_object, output_not_an_object};
use crate::types::{last_segment_is, single_type_argument, type_string};

/// A checked action, ready to expand.
pub struct Action {
    /// Where `mcp_actions` is reachable (`::mcp_actions` unless `crate = "…"`).
    pub krate: Path,
    pub ident: Ident,
    pub name: String,
    pub title: String,
    pub description: String,
    /// `None`: the calling crate's package name.
    pub plugin: Option<LitStr>,
    pub read_only: bool,
    pub destructive: Option<bool>,
    pub idempotent: bool,
    pub open_world: bool,
    pub confirm: Confirm,
    pub permission: Option<Path>,
    /// The input type, if the function takes one.
    pub input: Option<Type>,
    /// The arguments in order.
    pub args: Vec<Arg>,
    pub returns: Returns,
}

/// What one argument of the function receives.
pub enum Arg {
    Input,
    Context,
    /// `Service<T>`: the `T`.
    Service(Box<Type>),
}

/// The return type.
pub enum Returns {
    /// Written as `Result<Ok, Err>` (the common case): each side is checked at its own token.
    Result { ok: Box<Type>, err: Box<Type> },
    /// Anything else (a `Result` alias, a wrong type): checked as a whole.
    Other(Box<Type>),
}

/// Checks the attribute and the signature; every problem goes to `errors`.
pub fn validate(args: ActionArgs, func: &ItemFn, errors: &mut Errors) -> Option<Action> {
    let ident = func.sig.ident.clone();

    let name = match &args.name {
        Some(lit) => {
            let name = lit.value();
            if let Some(problem) = name_problem(&name) {
                errors.push(syn::Error::new_spanned(
                    lit,
                    format!("action name `{name}` {problem}{}", suggestion(&name)),
                ));
            }
            name
        }
        None => {
            let name = ident.unraw().to_string();
            if let Some(problem) = name_problem(&name) {
                errors.push(syn::Error::new_spanned(
                    &ident,
                    format!(
                        "action name `{name}` (taken from the function name) {problem}; rename the function or set `name = \"{}\"`",
                        to_snake_case(&name).unwrap_or_else(|| "my_action".into())
                    ),
                ));
            }
            name
        }
    };

    let title = match &args.title {
        Some(lit) if lit.value().trim().is_empty() => {
            errors.push(syn::Error::new_spanned(
                lit,
                "`title` must not be empty: give a short human-readable name, e.g. `title = \"Greet User\"`",
            ));
            String::new()
        }
        Some(lit) => lit.value(),
        None if args.misspelt.contains(&"title") => String::new(),
        None => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing `title`: add `title = \"…\"`, a short human-readable name for the action (e.g. `title = \"Greet User\"`)",
            ));
            String::new()
        }
    };

    let description = match &args.description {
        Some(lit) if lit.value().trim().is_empty() => {
            errors.push(syn::Error::new_spanned(
                lit,
                "`description` must not be empty: say what the action does, so the model knows when to call it",
            ));
            String::new()
        }
        Some(lit) => lit.value(),
        None => match doc_comment(func) {
            Some(doc) => doc,
            None if args.misspelt.contains(&"description") => String::new(),
            None => {
                errors.push(syn::Error::new_spanned(
                    &ident,
                    format!(
                        "action `{name}` has no description: add a doc comment (`/// What it does.`) above the function, or `description = \"…\"`; the model reads it to decide when to call the action"
                    ),
                ));
                String::new()
            }
        },
    };

    if let Some(lit) = &args.plugin
        && !is_valid_plugin_id(&lit.value())
    {
        errors.push(syn::Error::new_spanned(
            lit,
            format!(
                "plugin id `{}` is not valid: use lowercase letters, digits, `-` and `_`, starting with a letter or digit, at most 64 characters",
                lit.value()
            ),
        ));
    }

    let flag = |f: Option<crate::attr::Flag>| f.is_some_and(|f| f.value);
    let read_only = flag(args.read_only);
    if let (true, Some(destructive)) = (read_only, args.destructive)
        && destructive.value
    {
        errors.push(syn::Error::new(
            destructive.span,
            "an action cannot be both `read_only` and `destructive`: a read-only action changes nothing; remove one of them",
        ));
    }

    let confirm = crate::confirm::check(args.confirm, read_only, errors);

    let (input, call_args, returns) = check_signature(func, errors)?;
    if let (Confirm::Message { lit, fields, .. }, None) = (&confirm, &input)
        && let Some(field) = fields.first()
    {
        errors.push(syn::Error::new_spanned(
            lit,
            format!(
                "the confirmation message names `{{{field}}}`, but this action takes no input: only fields of the input can be named"
            ),
        ));
    }
    Some(Action {
        krate: args.krate.unwrap_or_else(|| parse_quote!(::mcp_actions)),
        ident,
        name,
        title,
        description,
        plugin: args.plugin,
        read_only,
        destructive: args.destructive.map(|f| f.value),
        idempotent: flag(args.idempotent),
        open_world: flag(args.open_world),
        confirm,
        permission: args.permission,
        input,
        args: call_args,
        returns,
    })
}

type Signature = (Option<Type>, Vec<Arg>, Returns);

fn check_signature(func: &ItemFn, errors: &mut Errors) -> Option<Signature> {
    let sig = &func.sig;
    let before = errors.count();
    let ident = &sig.ident;

    if sig.asyncness.is_none() {
        let at = sig
            .constness
            .as_ref()
            .map_or(sig.fn_token.span(), |c| c.span());
        errors.push(syn::Error::new(
            at,
            format!("an action must be an `async fn`; write `async fn {ident}(…)`"),
        ));
    }
    if let Safety::Unsafe(token) = &sig.safety {
        errors.push(syn::Error::new_spanned(
            token,
            "an action cannot be `unsafe`: the server calls it with no way to uphold its safety contract; remove `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "an action cannot have an `extern` ABI; remove it",
        ));
    }
    for param in &sig.generics.params {
        let message = match param {
            GenericParam::Lifetime(_) => {
                "an action cannot have lifetime parameters: its input and services are owned and `&ActionContext` needs no named lifetime; remove the parameter"
            }
            GenericParam::Type(_) => {
                "an action cannot be generic: the server needs one concrete input and output type to publish a schema; remove the type parameter and use concrete types"
            }
            GenericParam::Const(_) => {
                "an action cannot have const parameters: the server needs one concrete function; remove the parameter"
            }
        };
        errors.push(syn::Error::new_spanned(param, message));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "an action cannot have a `where` clause: use concrete types; remove it",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "an action cannot be variadic",
        ));
    }

    let mut input: Option<(Type, Span)> = None;
    let mut context: Option<Span> = None;
    let mut args = Vec::new();
    for arg in &sig.inputs {
        let typed = match arg {
            FnArg::Receiver(receiver) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "an action cannot take `self`: write it as a free `async fn` outside any `impl` block, and take shared state as a `Service<T>` argument",
                ));
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let ty = &*typed.ty;
        match classify(ty) {
            Kind::Context => {
                if let Some(_first) = context {
                    errors.push(syn::Error::new_spanned(
                        typed,
                        "an action takes `&ActionContext` at most once; remove this argument",
                    ));
                } else {
                    context = Some(typed.span());
                }
                args.push(Arg::Context);
            }
            Kind::Service(inner) => args.push(Arg::Service(inner)),
            Kind::Invalid(error) => errors.push(error),
            Kind::Input => {
                if let Some((first, _)) = &input {
                    errors.push(syn::Error::new_spanned(
                        typed,
                        format!(
                            "an action takes at most one input argument, and `{}` is already its input; move these fields into that struct, or take a shared service as `Service<T>`",
                            type_string(first)
                        ),
                    ));
                    continue;
                }
                if !args.is_empty() {
                    errors.push(syn::Error::new_spanned(
                        typed,
                        "the input must be the first argument of an action; move it before `&ActionContext` and `Service<T>` arguments",
                    ));
                }
                if let Some(shape) = not_an_object(ty) {
                    errors.push(input_not_an_object(ty, &typed.pat, shape));
                }
                input = Some((ty.clone(), typed.span()));
                args.push(Arg::Input);
            }
        }
    }

    let returns = match &sig.output {
        ReturnType::Default => {
            errors.push(syn::Error::new(
                sig.paren_token.span.close(),
                "an action must return `Result<Output, E>` where `E: Into<ActionError>`; add `-> Result<YourOutput, ActionError>`",
            ));
            None
        }
        ReturnType::Type(_, ty) => match &**ty {
            Type::ImplTrait(_) => {
                errors.push(syn::Error::new_spanned(
                    ty,
                    "an action cannot return `impl Trait`: return `Result<YourOutput, ActionError>`",
                ));
                None
            }
            ty => Some(split_result(ty)),
        },
    };
    if let Some(Returns::Result { ok, .. }) = &returns
        && let Some(shape) = not_an_object(ok)
    {
        errors.push(output_not_an_object(ok, shape));
    }

    if errors.count() > before {
        return None;
    }
    Some((input.map(|(ty, _)| ty), args, returns?))
}

enum Kind {
    Input,
    Context,
    Service(Box<Type>),
    Invalid(syn::Error),
}

fn classify(ty: &Type) -> Kind {
    match ty {
        Type::Reference(reference) => {
            if last_segment_is(&reference.elem, "ActionContext") {
                if let Some(mutability) = &reference.mutability {
                    return Kind::Invalid(syn::Error::new_spanned(
                        mutability,
                        "take the context as `&ActionContext`, not `&mut ActionContext`: it is shared; remove `mut`",
                    ));
                }
                if let Some(lifetime) = &reference.lifetime
                    && lifetime.ident != "_"
                {
                    return Kind::Invalid(syn::Error::new_spanned(
                        lifetime,
                        "take the context as `&ActionContext`, with no named lifetime: the context lives as long as the call; remove the lifetime",
                    ));
                }
                return Kind::Context;
            }
            Kind::Invalid(syn::Error::new_spanned(
                ty,
                format!(
                    "an action argument cannot be the reference `{}`: take the input by value (it is deserialized for each call), shared state as `Service<T>`, and the context as `&ActionContext`",
                    type_string(ty)
                ),
            ))
        }
        Type::ImplTrait(_) => Kind::Invalid(syn::Error::new_spanned(
            ty,
            "an action argument cannot be `impl Trait`: the input must be one concrete type that implements `Deserialize` and `JsonSchema`",
        )),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last().expect("a path has a segment");
            if last.ident == "ActionContext" {
                return Kind::Invalid(syn::Error::new_spanned(
                    ty,
                    "take the context by reference: write `ctx: &ActionContext`",
                ));
            }
            if last.ident == "Service" {
                return match single_type_argument(&last.arguments) {
                    Some(inner) => Kind::Service(Box::new(inner.clone())),
                    None => Kind::Invalid(syn::Error::new_spanned(
                        ty,
                        "name the service type: write `Service<MyService>`",
                    )),
                };
            }
            Kind::Input
        }
        _ => Kind::Input,
    }
}

fn split_result(ty: &Type) -> Returns {
    if let Type::Path(path) = ty
        && path.qself.is_none()
        && let Some(last) = path.path.segments.last()
        && last.ident == "Result"
        && let PathArguments::AngleBracketed(generic) = &last.arguments
    {
        let types: Vec<&Type> = generic
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect();
        if let [ok, err] = types[..]
            && generic.args.len() == 2
        {
            return Returns::Result {
                ok: Box::new(ok.clone()),
                err: Box::new(err.clone()),
            };
        }
    }
    Returns::Other(Box::new(ty.clone()))
}

/// The doc comment, with lines joined and their common indentation removed.
fn doc_comment(func: &ItemFn) -> Option<String> {
    let lines: Vec<String> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(expr) => match &expr.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .flat_map(|s| {
            // Not `lines()`: an empty `///` is an empty string and must stay an empty line.
            s.split('\n')
                .map(|l| l.trim_end_matches('\r').to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()?;
    let text = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim_matches('\n').to_owned();
    (!text.trim().is_empty()).then_some(text)
}

/// Why `name` is not a client-safe action name (`^[a-z][a-z0-9_]{0,63}$`), if it is not.
fn name_problem(name: &str) -> Option<String> {
    let rule = "use lowercase letters, digits and `_`, starting with a letter (`^[a-z][a-z0-9_]{0,63}$`), so that every MCP client accepts it as a tool name";
    if name.is_empty() {
        return Some(format!("is empty: {rule}"));
    }
    if name.len() > 64 {
        return Some(format!(
            "is {} characters long, more than 64: {rule}",
            name.len()
        ));
    }
    let first = name.as_bytes()[0];
    let valid = first.is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (!valid).then(|| format!("is not client-safe: {rule}"))
}

fn suggestion(name: &str) -> String {
    match to_snake_case(name) {
        Some(snake) if snake != name => format!("; did you mean `{snake}`?"),
        _ => String::new(),
    }
}

/// `GetEntity`, `get-entity`, `catalog.get` → `get_entity`, `get_entity`, `catalog_get`, if that
/// gives a valid name.
fn to_snake_case(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut prev_lower_or_digit = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            prev_lower_or_digit = true;
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower_or_digit = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    name_problem(&out).is_none().then_some(out)
}

/// `^[a-z0-9][a-z0-9_-]{0,63}$`, as `mcp_actions::descriptor::is_valid_plugin_id`.
fn is_valid_plugin_id(plugin: &str) -> bool {
    let bytes = plugin.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name_problem("greet_user").is_none());
        assert!(name_problem(&"a".repeat(64)).is_none());
        assert!(
            name_problem(&"a".repeat(65))
                .unwrap()
                .contains("more than 64")
        );
        assert!(name_problem("Greet").unwrap().contains("not client-safe"));
        assert!(name_problem("").unwrap().contains("empty"));
        assert_eq!(to_snake_case("GetEntity").as_deref(), Some("get_entity"));
        assert_eq!(
            to_snake_case("catalog.get-entity").as_deref(),
            Some("catalog_get_entity")
        );
        assert_eq!(to_snake_case("1abc"), None);
    }

    #[test]
    fn doc_comments_lose_common_indentation() {
        let func: ItemFn = parse_quote! {
            /// First line.
            ///
            ///   Indented more.
            async fn f() {}
        };
        assert_eq!(
            doc_comment(&func).unwrap(),
            "First line.\n\n  Indented more."
        );
        let func: ItemFn = parse_quote! { async fn f() {} };
        assert_eq!(doc_comment(&func), None);
    }
}
