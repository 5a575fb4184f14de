//! Reading types as the user wrote them: the last path segment, a single type argument, and a
//! readable rendering for messages.

use syn::{GenericArgument, PathArguments, Type};

pub(crate) fn last_segment_is(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == name && s.arguments.is_none()))
}

pub(crate) fn single_type_argument(arguments: &PathArguments) -> Option<&Type> {
    match arguments {
        PathArguments::AngleBracketed(generic) if generic.args.len() == 1 => {
            match generic.args.first()? {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn type_string(ty: &Type) -> String {
    quote::ToTokens::to_token_stream(ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace("& ", "&")
        .replace(" ,", ",")
}
