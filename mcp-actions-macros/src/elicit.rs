//! `#[derive(Elicit)]`: marks a type as askable in an MCP elicitation form, checking at compile
//! time that it has the flat shape MCP allows.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Path, parse_quote};

/// The expansion of `#[derive(Elicit)]` on `input`.
pub fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let krate = match crate_path(&input) {
        Ok(krate) => krate,
        Err(error) => return error.into_compile_error(),
    };
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return syn::Error::new_spanned(
            &input.generics,
            "`Elicit` cannot be derived for a generic type: an elicitation form has one concrete shape",
        )
        .into_compile_error();
    }
    match &input.data {
        Data::Struct(data) => {
            let Fields::Named(fields) = &data.fields else {
                return syn::Error::new_spanned(
                    ident,
                    "`Elicit` needs a struct with named fields: each field is one input of the form the user fills in",
                )
                .into_compile_error();
            };
            let checks = fields.named.iter().map(|field| {
                let ty = &field.ty;
                quote_spanned! {ty.span()=> __mcp_actions_field::<#ty>(); }
            });
            quote! {
                #[automatically_derived]
                impl #p::Elicit for #ident {}
                const _: () = {
                    const fn __mcp_actions_field<T: #p::ElicitField + ?::core::marker::Sized>() {}
                    #(#checks)*
                };
            }
        }
        Data::Enum(data) => {
            if let Some(variant) = data
                .variants
                .iter()
                .find(|v| !matches!(v.fields, Fields::Unit))
            {
                return syn::Error::new_spanned(
                    &variant.fields,
                    format!(
                        "`Elicit` on an enum needs unit variants only (the user picks one from a list), but `{}` carries data; remove its fields",
                        variant.ident
                    ),
                )
                .into_compile_error();
            }
            quote! {
                #[automatically_derived]
                impl #p::ElicitField for #ident {}
                #[automatically_derived]
                impl #p::ElicitScalar for #ident {}
            }
        }
        Data::Union(data) => syn::Error::new_spanned(
            data.union_token,
            "`Elicit` cannot be derived for a union: use a struct with named fields",
        )
        .into_compile_error(),
    }
}

/// `#[elicit(crate = "…")]`, or `::mcp_actions`.
fn crate_path(input: &DeriveInput) -> syn::Result<Path> {
    let mut krate: Path = parse_quote!(::mcp_actions);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("elicit")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                krate = lit.parse()?;
                Ok(())
            } else {
                Err(meta.error("unknown key; expected `crate = \"path::to::mcp_actions\"`"))
            }
        })?;
    }
    Ok(krate)
}
