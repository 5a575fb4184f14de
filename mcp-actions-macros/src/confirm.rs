//! `confirm` / `confirm = "Delete {name}?"`: checks the key and parses the message into a
//! `format!` string and the input fields it names (their existence is checked by rustc, on
//! the generated field accesses spanned on the message).

use syn::LitStr;

use crate::attr::ConfirmArg;
use crate::errors::Errors;

/// `confirm` as checked.
pub enum Confirm {
    No,
    Default,
    /// `confirm = "…"`: a `format!` string with one `{}` per field, the fields named in order,
    /// and the literal (errors and field accesses are spanned on it).
    Message {
        lit: LitStr,
        format: String,
        fields: Vec<String>,
    },
}

/// Checks `confirm` as written; every problem goes to `errors`.
pub fn check(confirm: Option<ConfirmArg>, read_only: bool, errors: &mut Errors) -> Confirm {
    match confirm {
        None => Confirm::No,
        Some(ConfirmArg::Flag(flag)) if !flag.value => Confirm::No,
        Some(ConfirmArg::Flag(flag)) => {
            if read_only {
                errors.push(syn::Error::new(flag.span, CONFIRM_READ_ONLY));
            }
            Confirm::Default
        }
        Some(ConfirmArg::Message(lit)) => {
            if read_only {
                errors.push(syn::Error::new_spanned(&lit, CONFIRM_READ_ONLY));
            }
            match parse_template(&lit.value()) {
                Ok((format, fields)) => {
                    if format.trim().is_empty() {
                        errors.push(syn::Error::new_spanned(
                            &lit,
                            "the confirmation message is empty: say what the user is confirming, e.g. `confirm = \"Delete {name}?\"`",
                        ));
                    }
                    Confirm::Message {
                        lit,
                        format,
                        fields,
                    }
                }
                Err(problem) => {
                    errors.push(syn::Error::new_spanned(&lit, problem));
                    Confirm::No
                }
            }
        }
    }
}

const CONFIRM_READ_ONLY: &str = "a `read_only` action cannot ask for confirmation: it changes nothing, so there is nothing to confirm; remove `confirm` (or `read_only`)";

/// `"Delete {name} in {namespace}?"` → (`"Delete {} in {}?"`, `["name", "namespace"]`): each
/// `{…}` names a field of the input; `{{` and `}}` are literal braces.
fn parse_template(template: &str) -> Result<(String, Vec<String>), String> {
    let mut format = String::new();
    let mut fields = Vec::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                format.push_str("{{");
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                format.push_str("}}");
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err("unclosed `{` in the confirmation message: name a field of the input as `{field}`, or write `{{` for a literal brace".into());
                        }
                    }
                }
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_alphabetic())
                    && name.chars().all(|c| c == '_' || c.is_alphanumeric());
                if !valid {
                    return Err(format!(
                        "`{{{name}}}` in the confirmation message is not a field name: write `{{field}}` with a field of the input (no positions, no format specs), or `{{{{` for a literal brace"
                    ));
                }
                format.push_str("{}");
                fields.push(name);
            }
            '}' => {
                return Err(
                    "unmatched `}` in the confirmation message: write `}}` for a literal brace"
                        .into(),
                );
            }
            c => format.push(c),
        }
    }
    Ok((format, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_templates() {
        assert_eq!(
            parse_template("Delete {name} in {namespace}? {{x}}").unwrap(),
            (
                "Delete {} in {}? {{x}}".to_owned(),
                vec!["name".to_owned(), "namespace".to_owned()]
            )
        );
        assert!(
            parse_template("Delete {}?")
                .unwrap_err()
                .contains("not a field name")
        );
        assert!(parse_template("Delete {0}?").is_err());
        assert!(parse_template("Delete {name:?}").is_err());
        assert!(
            parse_template("Delete {name")
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(
            parse_template("Delete }")
                .unwrap_err()
                .contains("unmatched")
        );
    }
}
