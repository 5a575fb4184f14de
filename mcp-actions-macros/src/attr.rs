//! Parses the arguments of `#[action(...)]` into an owned IR.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, LitBool, LitStr, Path, Token};

use crate::errors::Errors;

/// Every key `#[action(...)]` accepts, in the order the "expected one of" list shows them.
pub const KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "plugin",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "confirm",
    "permission",
    "crate",
];

/// A boolean hint (`read_only`, `read_only = true`, `read_only = false`).
#[derive(Clone, Copy)]
pub struct Flag {
    pub value: bool,
    /// The key's span.
    pub span: Span,
}

/// `confirm`, `confirm = true|false` or `confirm = "Delete {name}?"`.
pub enum ConfirmArg {
    Flag(Flag),
    Message(LitStr),
}

/// The arguments of `#[action(...)]`, as written.
#[derive(Default)]
pub struct ActionArgs {
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub plugin: Option<LitStr>,
    pub read_only: Option<Flag>,
    pub destructive: Option<Flag>,
    pub idempotent: Option<Flag>,
    pub open_world: Option<Flag>,
    pub confirm: Option<ConfirmArg>,
    pub permission: Option<Path>,
    pub krate: Option<Path>,
    /// Keys that an unknown key looked like (`titel` → `title`): that key is not reported
    /// missing as well.
    pub misspelt: Vec<&'static str>,
}

/// Parses the attribute's tokens. Every problem is recorded in `errors`; keys that parsed are
/// kept, so later checks still run.
pub fn parse(tokens: TokenStream, errors: &mut Errors) -> ActionArgs {
    let mut args = ActionArgs::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.get_ident().map(|i| {
            // `crate` is a keyword; it reaches us as a path segment named `crate`.
            i.to_string()
        });
        let key = match key {
            Some(key) => key,
            None => {
                errors.push(syn::Error::new_spanned(
                    &meta.path,
                    format!(
                        "expected a key such as `title`; expected one of {}",
                        key_list()
                    ),
                ));
                return skip_value(meta.input);
            }
        };
        let result = match key.as_str() {
            "name" => set(&mut args.name, &meta, &key, parse_str(&meta)),
            "title" => set(&mut args.title, &meta, &key, parse_str(&meta)),
            "description" => set(&mut args.description, &meta, &key, parse_str(&meta)),
            "plugin" => set(&mut args.plugin, &meta, &key, parse_str(&meta)),
            "read_only" => set(&mut args.read_only, &meta, &key, parse_flag(&meta)),
            "destructive" => set(&mut args.destructive, &meta, &key, parse_flag(&meta)),
            "idempotent" => set(&mut args.idempotent, &meta, &key, parse_flag(&meta)),
            "open_world" => set(&mut args.open_world, &meta, &key, parse_flag(&meta)),
            "confirm" => set(&mut args.confirm, &meta, &key, parse_confirm(&meta)),
            "permission" => set(&mut args.permission, &meta, &key, parse_permission(&meta)),
            "crate" => set(&mut args.krate, &meta, &key, parse_crate(&meta)),
            _ => {
                args.misspelt.extend(closest(&key));
                Err(unknown_key(&meta.path, &key))
            }
        };
        if let Err(e) = result {
            errors.push(e);
            return skip_value(meta.input);
        }
        Ok(())
    });
    if let Err(e) = parser.parse2(tokens) {
        errors.push(e);
    }
    args
}

/// Stores a parsed value, rejecting a second occurrence of the key.
fn set<T>(
    slot: &mut Option<T>,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    value: syn::Result<T>,
) -> syn::Result<()> {
    let value = value?;
    if slot.is_some() {
        return Err(syn::Error::new_spanned(
            &meta.path,
            format!("duplicate key `{key}`; each key may appear only once, remove one of them"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_str(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let key = path_name(&meta.path);
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Err(syn::Error::new_spanned(
            &meta.path,
            format!("`{key}` needs a value: write `{key} = \"…\"`"),
        ));
    }
    let value = meta.value()?;
    if value.peek(LitStr) {
        value.parse()
    } else {
        let found: TokenTree = value.parse()?;
        Err(syn::Error::new_spanned(
            found,
            format!("`{key}` takes a string literal: write `{key} = \"…\"`"),
        ))
    }
}

fn parse_flag(meta: &ParseNestedMeta<'_>) -> syn::Result<Flag> {
    let span = meta.path.span();
    if !meta.input.peek(Token![=]) {
        return Ok(Flag { value: true, span });
    }
    let key = path_name(&meta.path);
    let value = meta.value()?;
    if value.peek(LitBool) {
        let lit: LitBool = value.parse()?;
        Ok(Flag {
            value: lit.value,
            span,
        })
    } else {
        let found: TokenTree = value.parse()?;
        Err(syn::Error::new_spanned(
            found,
            format!("`{key}` is a flag: write `{key}`, `{key} = true` or `{key} = false`"),
        ))
    }
}

fn parse_confirm(meta: &ParseNestedMeta<'_>) -> syn::Result<ConfirmArg> {
    if meta.input.peek(Token![=]) && meta.input.peek2(LitStr) {
        let value = meta.value()?;
        return Ok(ConfirmArg::Message(value.parse()?));
    }
    parse_flag(meta).map_err(|_| {
        syn::Error::new_spanned(
            &meta.path,
            "`confirm` is written `confirm`, `confirm = false` or `confirm = \"Delete {name}?\"` (a message that may name fields of the input)",
        )
    }).map(ConfirmArg::Flag)
}

fn parse_permission(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Err(syn::Error::new_spanned(
            &meta.path,
            "`permission` needs a value: write `permission = MY_PERMISSION`, the path of a `const` or `static` `Permission`",
        ));
    }
    let value = meta.value()?;
    if value.peek(LitStr) {
        let lit: LitStr = value.parse()?;
        return Err(syn::Error::new_spanned(
            &lit,
            format!(
                "`permission` takes the path of a `Permission` constant, not a string: declare `const MY_PERMISSION: Permission = Permission::read({});` and write `permission = MY_PERMISSION`",
                lit.token()
            ),
        ));
    }
    value.parse()
}

fn parse_crate(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Err(syn::Error::new_spanned(
            &meta.path,
            "`crate` needs a value: write `crate = \"path::to::mcp_actions\"`",
        ));
    }
    let value = meta.value()?;
    if value.peek(LitStr) {
        let lit: LitStr = value.parse()?;
        lit.parse::<Path>().map_err(|_| {
            syn::Error::new_spanned(
                &lit,
                "`crate` takes the path under which `mcp_actions` is reachable, e.g. `crate = \"my_actions\"`",
            )
        })
    } else {
        value.parse()
    }
}

fn unknown_key(path: &Path, key: &str) -> syn::Error {
    let hint = match closest(key) {
        Some(close) => format!(" (did you mean `{close}`?)"),
        None => String::new(),
    };
    syn::Error::new_spanned(
        path,
        format!("unknown key `{key}`{hint}; expected one of {}", key_list()),
    )
}

/// `` `name`, `title`, … or `crate` ``.
pub fn key_list() -> String {
    let quoted: Vec<String> = KEYS.iter().map(|k| format!("`{k}`")).collect();
    let (last, rest) = quoted.split_last().expect("KEYS is not empty");
    format!("{} or {last}", rest.join(", "))
}

/// The known key closest to a misspelt one, if it is close enough to be a typo.
fn closest(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase().replace('-', "_");
    KEYS.iter()
        .map(|k| (edit_distance(&key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

fn path_name(path: &Path) -> String {
    path.get_ident().map(Ident::to_string).unwrap_or_default()
}

/// Skips what follows a key we could not use, up to the next `,`, so parsing can go on.
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(closest("titel"), Some("title"));
        assert_eq!(closest("readonly"), Some("read_only"));
        assert_eq!(closest("read-only"), Some("read_only"));
        assert_eq!(closest("descripton"), Some("description"));
        assert_eq!(closest("xyz"), None);
    }

    #[test]
    fn key_list_reads_as_a_sentence() {
        assert!(key_list().starts_with("`name`, `title`, `description`"));
        assert!(key_list().ends_with("`permission` or `crate`"));
    }
}
